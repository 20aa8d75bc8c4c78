import CloudbenchCore
import CloudbenchOrchestrator
import Foundation

/// Finds the agent binaries to deploy: the one built beside `cloudbench` for this machine's
/// architecture, and any the inventory names for others.
enum AgentLocator {
    static func binaries(inventory: Inventory) throws -> AgentBinaries {
        var byArch = inventory.agentBinaries
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        let sibling = exe.deletingLastPathComponent().appendingPathComponent("cloudbench-agent").path
        if byArch[machineArch()] == nil {
            guard FileManager.default.isExecutableFile(atPath: sibling) else {
                throw FileError(sibling, "the agent is not built beside cloudbench; run `make build`")
            }
            byArch[machineArch()] = sibling
        }
        return AgentBinaries(byArch: byArch)
    }

    /// `uname -m` of this machine.
    static func machineArch() -> String {
        var u = utsname()
        uname(&u)
        return withUnsafeBytes(of: u.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }
}

/// Calls `onSignal` on the first SIGINT, SIGTERM or SIGHUP (a closed terminal); a second one
/// ends the process at once.
final class SignalWatcher: @unchecked Sendable {
    private var sources: [DispatchSourceSignal] = []
    private var count = 0
    private let lock = NSLock()

    init(onSignal: @escaping @Sendable () -> Void) {
        for sig in Self.signals {
            signal(sig, SIG_IGN)
            let s = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            s.setEventHandler { [weak self] in
                guard let self else { return }
                self.lock.lock()
                self.count += 1
                let n = self.count
                self.lock.unlock()
                if n == 1 { onSignal() } else {
                    FileHandle.standardError.write(Data("second interrupt: exiting now; run `cloudbench compare --resume` later, the next run cleans the hosts\n".utf8))
                    exit(130)
                }
            }
            s.resume()
            sources.append(s)
        }
    }

    func cancel() {
        sources.forEach { $0.cancel() }
        for sig in Self.signals { signal(sig, SIG_DFL) }
    }

    static let signals = [SIGINT, SIGTERM, SIGHUP]
}
