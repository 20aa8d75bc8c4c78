#if canImport(Glibc)
import Glibc
#endif

/// The calls a process runner makes about its children: pipes, reaping, signals.
extension Posix {
    /// `pipe(2)`, both ends then made close-on-exec (`pipe2` is not in Swift's Glibc): (read end,
    /// write end). A program another thread starts in between may inherit them; ours do not
    /// (`closefrom` in the child), and a runner never waits for a pipe's end of file alone.
    public static func pipe() throws(SystemError) -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        _ = try retrying("pipe") { fds.withUnsafeMutableBufferPointer { Glibc.pipe($0.baseAddress) } }
        for fd in fds {
            do { try setCloseOnExec(fd) } catch { fds.forEach(close); throw error }
        }
        return (fds[0], fds[1])
    }

    /// `waitpid(2)` with `WNOHANG`: the raw wait status once `pid` has ended (reaping it), nil
    /// while it runs.
    public static func reap(_ pid: pid_t) throws(SystemError) -> Int32? {
        var status: Int32 = 0
        let r = try retrying("waitpid(\(pid))") { waitpid(pid, &status, WNOHANG) }
        return r == pid ? status : nil
    }

    /// `kill(2)`; a process (or group, for a negative pid) that is already gone is not an error.
    public static func signal(_ pid: pid_t, _ signal: Int32) throws(SystemError) {
        if Glibc.kill(pid, signal) == 0 { return }
        let err = errno
        if err == ESRCH { return }
        throw SystemError(call: "kill(\(pid), \(signal))", errno: err)
    }
}
