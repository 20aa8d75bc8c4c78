/// A POSIX shell test, true while the process `pid` (a number or a shell expression giving one)
/// runs. An ended process that its parent has not reaped yet (a zombie) counts as ended: after
/// `nohup … &` the parent is the host's init, and on some images and containers init reaps
/// seconds late, so `kill -0` would still see it (1.3-1.8 s per stop on this project's VM).
public func shellProcessRuns(_ pid: String) -> String {
    "{ s=$(sed -n 's/^State:[[:space:]]*\\(.\\).*/\\1/p' /proc/\(pid)/status 2>/dev/null); [ -n \"$s\" ] && [ \"$s\" != Z ]; }"
}

/// A shell command that ends the agent whose pid is in `pidFile`, only if that pid is still a
/// cloudbench agent (a pid reused by another program is left alone); true either way.
public func shellStopAgent(pidFile: String) -> String {
    "p=$(cat \(pidFile) 2>/dev/null); if [ -n \"$p\" ] && grep -q cloudbench-agent /proc/$p/cmdline 2>/dev/null; then kill $p; fi"
}
