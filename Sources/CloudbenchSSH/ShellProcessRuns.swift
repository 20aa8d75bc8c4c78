/// A POSIX shell test, true while the process `pid` (a number or a shell expression giving one)
/// runs. An ended process that its parent has not reaped yet (a zombie) counts as ended: after
/// `nohup … &` the parent is the host's init, and on some images and containers init reaps
/// seconds late, so `kill -0` would still see it (1.3-1.8 s per stop on this project's VM).
public func shellProcessRuns(_ pid: String) -> String {
    "{ s=$(sed -n 's/^State:[[:space:]]*\\(.\\).*/\\1/p' /proc/\(pid)/status 2>/dev/null); [ -n \"$s\" ] && [ \"$s\" != Z ]; }"
}
