/// What a non-blocking or timed I/O call did: its result, or nothing yet (`EAGAIN`,
/// `EWOULDBLOCK`: the socket's timeout passed or no data is there).
///
/// A value, not an error: waiting is how sockets with timeouts work.
public enum IOResult<T: Sendable>: Sendable {
    case processed(T)
    case wouldBlock

    /// The result, or nil for `wouldBlock`.
    @inline(__always)
    public var value: T? {
        if case .processed(let v) = self { return v }
        return nil
    }
}
