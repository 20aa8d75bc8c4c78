import Foundation
import Syscall

/// A program `ProcessRunner.start` started and did not wait for (a server, a test peer): its
/// pid, whether it still runs, how it ended, and a way to stop it with everything it started.
///
/// It leads a process group of its own; `stop` ends the whole group. The object reaps the
/// process (waitpid) the first time it sees it has ended, so ask it, not `waitpid`.
public final class ChildProcess: @unchecked Sendable {
    public let processIdentifier: pid_t
    public let argv: [String]
    /// The raw wait status once reaped.
    private let ended = Locked<Int32?>(nil)
    /// The pipes it was started with, kept open on our side while this object lives.
    private var pipes: [Pipe] = []

    func retain(_ pipes: [Pipe]) { self.pipes = pipes }

    init(pid: pid_t, argv: [String]) {
        processIdentifier = pid
        self.argv = argv
    }

    /// The wait status if the process has ended (reaping it), nil while it runs.
    private func poll() -> Int32? {
        ended.withLock { ended in
            if let ended { return ended }
            do {
                ended = try Posix.reap(processIdentifier)
            } catch {
                // ECHILD: not ours to reap any more (someone waited for it); it is gone.
                ended = 0x7f00 | 0  // reported as exit status 127
            }
            return ended
        }
    }

    public var isRunning: Bool { poll() == nil }

    /// Waits until the process has ended.
    public func waitUntilExit() {
        var pause = 0.001
        while poll() == nil {
            Clock.sleep(pause)
            pause = min(pause * 2, 0.02)
        }
    }

    /// Waits at most `seconds`; true when the process has ended.
    @discardableResult
    public func wait(seconds: Double) -> Bool {
        let deadline = Deadline(seconds: seconds)
        var pause = 0.001
        while poll() == nil {
            if deadline.expired { return false }
            Clock.sleep(min(pause, deadline.secondsRemaining))
            pause = min(pause * 2, 0.02)
        }
        return true
    }

    /// Its exit status, or 128 + the signal that killed it (as a shell says); -1 while it runs.
    public var terminationStatus: Int32 {
        guard let status = poll() else { return -1 }
        return ExitStatus(raw: status).code
    }

    /// The signal that killed it, if one did.
    public var terminationSignal: Int32? {
        poll().flatMap { ExitStatus(raw: $0).signal }
    }

    /// Sends SIGINT to the process (not its group) if it still runs, as Ctrl-C would.
    public func interrupt() {
        send(SIGINT)
    }

    /// Sends SIGTERM to the process (not its group) if it still runs.
    public func terminate() {
        send(SIGTERM)
    }

    /// Sends `signal` to the process if it still runs.
    public func send(_ signal: Int32) {
        if isRunning { try? Posix.signal(processIdentifier, signal) }
    }

    /// Sends `signal` to its whole process group (what it started too, unless that left the group).
    public func sendToGroup(_ signal: Int32) {
        try? Posix.signal(-processIdentifier, signal)
    }

    /// Stops it and everything in its group: SIGTERM, then SIGKILL after `grace` seconds, and
    /// waits until it has ended; what it left behind in its group is killed too. Does nothing
    /// when it had already ended (its pid may name another process by now).
    public func stop(grace: Double = 2) {
        guard isRunning else { return }
        sendToGroup(SIGTERM)
        if !wait(seconds: grace) { sendToGroup(SIGKILL) }
        waitUntilExit()
        sendToGroup(SIGKILL)
    }
}

/// A wait status taken apart (WIFEXITED and friends are macros Swift cannot call).
struct ExitStatus {
    let raw: Int32

    /// The signal that ended the process, nil when it exited.
    var signal: Int32? { raw & 0x7f == 0 ? nil : raw & 0x7f }

    /// The exit code, or 128 + the signal.
    var code: Int32 { signal.map { 128 + $0 } ?? (raw >> 8) & 0xff }

    /// `TERM`, `KILL`, … for the signal, as SSH names them; the number for a rare one.
    var signalName: String? {
        guard let signal else { return nil }
        let names: [Int32: String] = [SIGHUP: "HUP", SIGINT: "INT", SIGQUIT: "QUIT", SIGILL: "ILL", SIGTRAP: "TRAP",
                                      SIGABRT: "ABRT", SIGBUS: "BUS", SIGFPE: "FPE", SIGKILL: "KILL", SIGUSR1: "USR1",
                                      SIGSEGV: "SEGV", SIGUSR2: "USR2", SIGPIPE: "PIPE", SIGALRM: "ALRM", SIGTERM: "TERM"]
        return names[signal] ?? "\(signal)"
    }
}
