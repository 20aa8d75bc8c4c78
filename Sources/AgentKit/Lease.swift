#if canImport(Glibc)
import Glibc
#endif
import AgentContract
import Syscall

/// A lease file on the host: the orchestrator renews it (touches it) once per the run's period
/// (`LeaseTerms`, stated in the file beside it); a process holding it ends itself once it goes
/// `LeaseTerms.missedPeriods` periods without a renewal, or is removed (the run's cleanup removes
/// it), so a killed orchestrator leaves nothing running.
public enum Lease {
    /// The period the run states beside `path` (`LeaseTerms.periodFile`), or `LeaseTerms.period`
    /// when there is no such file or it holds anything but a whole number of seconds in range.
    public static func period(of path: String) -> Double {
        let fd = open(LeaseTerms.periodFile(of: path), O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return LeaseTerms.period }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: 16)
        let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress, 16) }
        guard n > 0 else { return LeaseTerms.period }
        return LeaseTerms.period(stated: String(decoding: bytes[0..<n], as: UTF8.self))
    }

    /// Seconds since `path` was last renewed, by the host's own clock; nil when it is gone.
    public static func age(of path: String) -> Double? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let modified = Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9 - modified
    }

    /// Why a lease no longer holds, or nil while it does; `period` when the caller read it already.
    public static func ended(_ path: String, period known: Double? = nil) -> String? {
        guard let age = age(of: path) else { return "lease \(path) removed" }
        let p = known ?? period(of: path)
        if age > LeaseTerms.expiry(period: p) {
            return "lease \(path) not renewed for \(Int(age)) s (more than \(LeaseTerms.missedPeriods) periods of \(Int(p)) s)"
        }
        return nil
    }

    /// Renews `path` now (as `touch -c`: never creates it), unless it has run out already: a
    /// lease that ended stays ended. The agent server does this when a test of the run starts
    /// and when it ends, and the client when it is done, so a host that measures needs no
    /// renewal from the orchestrator (`LeaseRenewal` skips a host a cell just renewed).
    public static func renew(_ path: String) {
        guard ended(path) == nil else { return }
        _ = utimensat(AT_FDCWD, path, nil, 0)
    }

    /// Renews `path` (as `touch -c`: never creates it) once per period from a thread of its own,
    /// for as long as the process runs: the agent client does this while it measures, because
    /// the orchestrator's own renewals of that host wait for the client's SSH command to end.
    public static func keepRenewed(_ path: String) {
        // Local and cheap: at the shortest period whatever the run's, so a lease is never stale here.
        _ = try? WorkerThread<Void> {
            while true {
                _ = utimensat(AT_FDCWD, path, nil, 0)
                Clock.sleep(LeaseTerms.period)
            }
        }
    }

    /// Checks that `path` holds now, then watches it from a thread of its own and ends the process
    /// (exit status 0, after `log`) once it no longer holds.
    public static func hold(_ path: String, log: @escaping @Sendable (String) -> Void) throws {
        // The run's period is read once: it stays the same for the run.
        let p = period(of: path)
        if let why = ended(path, period: p) { throw AgentError.failed("cannot start: \(why)") }
        // Checked at the shortest period whatever the run's: a removed lease ends the process in seconds.
        _ = try WorkerThread<Void> {
            while true {
                Clock.sleep(LeaseTerms.period)
                if let why = ended(path, period: p) {
                    log("\(why); exiting")
                    _exit(0)
                }
            }
        }
    }
}
