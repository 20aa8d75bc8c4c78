#if canImport(Glibc)
import Glibc
#endif

/// A failed system call: which call (and on what, when that helps), and the errno it left.
public struct SystemError: Error, CustomStringConvertible, Sendable, Equatable {
    public let call: String
    public let errno: Int32

    public init(call: String, errno: Int32) {
        self.call = call
        self.errno = errno
    }

    /// What the errno says, without the call: "Connection refused".
    public var reason: String { String(cString: strerror(errno)) }

    public var description: String { "\(call) failed: \(reason)" }
}
