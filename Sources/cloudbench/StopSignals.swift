import Foundation

/// SIGINT, SIGTERM and SIGHUP (a closed terminal): the one place the CLI watches them.
///
/// The first signal calls `onFirst` (stop starting work, clean up) and is passed on once to a
/// child that was set (`compare` under `compare --fleet`, in its own process group; SIGHUP goes
/// on as SIGTERM). What a later signal does is the caller's choice: `compare` exits at once (the
/// next run cleans the hosts), provisioning only says that cleanup is under way, so a second
/// Ctrl-C never leaks an instance.
final class StopSignals: @unchecked Sendable {
    enum Later {
        /// Print this and exit with status 130.
        case exit(String)
        /// Print this and go on.
        case remind(String)
    }

    static let signals = [SIGINT, SIGTERM, SIGHUP]

    private var sources: [DispatchSourceSignal] = []
    private let lock = NSLock()
    private var count = 0
    private var child: pid_t = 0

    init(later: Later, onFirst: @escaping @Sendable () -> Void) {
        for sig in Self.signals {
            signal(sig, SIG_IGN)
            let s = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            s.setEventHandler { [weak self] in
                guard let self else { return }
                self.lock.lock()
                self.count += 1
                let n = self.count
                let child = self.child
                self.lock.unlock()
                if n == 1 {
                    if child > 0 { kill(child, sig == SIGHUP ? SIGTERM : sig) }
                    onFirst()
                    return
                }
                switch later {
                case .exit(let message):
                    printError(message)
                    exit(130)
                case .remind(let message):
                    printError(message)
                }
            }
            s.resume()
            sources.append(s)
        }
    }

    /// Provisioning's watcher: the first signal asks the engine to stop (it then removes what it created).
    static func provisioning() -> StopSignals {
        StopSignals(later: .remind("still removing what this run created; it ends by itself")) {
            printError("stopping: removing everything this run created…")
        }
    }

    func setChild(_ pid: pid_t) {
        lock.lock()
        child = pid
        lock.unlock()
    }

    var received: Bool {
        lock.lock()
        defer { lock.unlock() }
        return count > 0
    }

    func cancel() {
        sources.forEach { $0.cancel() }
        for sig in Self.signals { signal(sig, SIG_DFL) }
    }
}
