#if canImport(Glibc)
import Glibc
#endif
import Syscall

/// A short helper program the agent runs (`ethtool`): found on `PATH`, standard input and error
/// from `/dev/null`, at most `limit` bytes of output kept, and stopped (KILL) at its deadline.
enum BoundedCommand {
    struct Output {
        /// The exit status; nil when it did not exit by itself (killed at the deadline, or a signal).
        var status: Int32?
        var stdout: String
    }

    /// nil when the program could not be started (not installed).
    static func run(_ argv: [String], timeout: Double = 3, limit: Int = 1 << 20) -> Output? {
        guard let pipe = try? Posix.pipe() else { return nil }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, pipe.write, 1)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t(), all = sigset_t()
        sigemptyset(&none)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var pid: pid_t = 0
        let cArgs = argv.map { strdup($0) } + [nil]
        defer { cArgs.forEach { free($0) } }
        let started = posix_spawnp(&pid, argv[0], &actions, &attributes, cArgs, environ)
        Posix.close(pipe.write)
        defer { Posix.close(pipe.read) }
        guard started == 0 else { return nil }

        let deadline = Deadline(seconds: timeout)
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16_384)
        var killed = false
        while true {
            guard (try? Posix.wait(pipe.read, for: Int16(POLLIN), until: deadline)) == true else {
                try? Posix.signal(pid, SIGKILL)
                killed = true
                break
            }
            let n = chunk.withUnsafeMutableBytes { read(pipe.read, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            if bytes.count < limit { bytes += chunk[..<min(n, limit - bytes.count)] }
        }
        // The program closed its output (or was killed): reap it, killing it if it lingers.
        var status: Int32 = 0
        var reaped = false
        for attempt in 0..<400 {
            do {
                if let s = try Posix.reap(pid) { status = s; reaped = true; break }
            } catch { break }
            if attempt == 200 { try? Posix.signal(pid, SIGKILL); killed = true }
            Clock.sleep(0.005)
        }
        if !reaped { killed = true }
        let exited = (status & 0x7f) == 0
        return Output(status: killed || !exited ? nil : (status >> 8) & 0xff, stdout: String(decoding: bytes, as: UTF8.self))
    }
}
