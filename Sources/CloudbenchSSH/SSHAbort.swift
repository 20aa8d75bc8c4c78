import Foundation

/// Interruption of SSH work in flight (Ctrl-C, SIGTERM, SIGHUP).
///
/// `request()` ends every call (connect, command, upload) that started before it within a poll
/// slice (`SSHAbort.slice`), with `SSHError.interrupted`; calls started after it run normally,
/// so the cleanup that follows an interrupt can still talk to the hosts, on its own deadline.
/// A session whose call was cut off mid-transfer is given up (its socket reset, so a thin link
/// is not kept busy with what was queued) and refuses further calls.
public enum SSHAbort {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var generation = 0

    /// The longest a blocked call waits before it looks again whether it was interrupted.
    static let slice: Int32 = 200

    /// Interrupts every SSH call in flight.
    public static func request() {
        lock.lock()
        generation += 1
        lock.unlock()
    }

    /// The current generation: a call remembers it when it starts.
    static var current: Int {
        lock.lock()
        defer { lock.unlock() }
        return generation
    }
}
