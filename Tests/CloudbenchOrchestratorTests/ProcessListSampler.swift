import Foundation

/// Reads the command line (`/proc/*/cmdline`, what `ps -eo args` shows) of every process in the
/// network namespaces `namespaces` every `interval` seconds until stopped, keeping the ones that match `suspicious` and counting the
/// ones that match `expected` (proof that the sampler saw what it was meant to watch). The lab's
/// hosts are network namespaces of this machine, so this sees the processes of all of them (and
/// only theirs: other labs may run on the same machine).
final class ProcessListSampler: @unchecked Sendable {
    private let lock = NSLock()
    private var running = true
    private var found: Set<String> = []
    private var seen = 0
    private var rounds = 0
    private var thread: Thread?
    private let interval: Double
    private let suspicious: @Sendable (String) -> Bool
    private let expected: @Sendable (String) -> Bool

    private let namespaceInodes: Set<UInt64>

    init(namespaces: [String], interval: Double = 0.05, suspicious: @escaping @Sendable (String) -> Bool, expected: @escaping @Sendable (String) -> Bool) {
        self.interval = interval
        namespaceInodes = Set(namespaces.compactMap { Self.inode("/run/netns/\($0)") })
        self.suspicious = suspicious
        self.expected = expected
        let t = Thread { [self] in loop() }
        thread = t
        t.start()
    }

    private func loop() {
        while isRunning {
            let pids = (try? FileManager.default.contentsOfDirectory(atPath: "/proc"))?.filter { $0.allSatisfy(\.isNumber) } ?? []
            var bad: [String] = [], hits = 0
            for pid in pids where Self.inode("/proc/\(pid)/ns/net").map(namespaceInodes.contains) == true {
                guard let raw = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"), !raw.isEmpty else { continue }
                let line = String(decoding: raw.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
                if suspicious(line) { bad.append(line) }
                if expected(line) { hits += 1 }
            }
            lock.lock(); found.formUnion(bad); seen += hits; rounds += 1; lock.unlock()
            usleep(useconds_t(interval * 1e6))
        }
        lock.lock(); finished = true; lock.unlock()
    }

    private var finished = false

    private static func inode(_ path: String) -> UInt64? {
        var st = stat()
        return stat(path, &st) == 0 ? UInt64(st.st_ino) : nil
    }

    private var isRunning: Bool { lock.lock(); defer { lock.unlock() }; return running }

    /// Stops sampling; returns the suspicious command lines, how many expected ones were seen, and
    /// how many times the list was read.
    func stop() -> (suspicious: Set<String>, expected: Int, rounds: Int) {
        lock.lock(); running = false; lock.unlock()
        while !(lock.withLock { finished }) { usleep(10_000) }
        lock.lock(); defer { lock.unlock() }
        return (found, seen, rounds)
    }
}
