#if canImport(Glibc)
import Glibc
#endif

/// A failed system call: which call, on what, and the errno it left.
public struct SystemError: Error, CustomStringConvertible, Sendable {
    public let call: String
    public let errno: Int32

    public init(call: String, errno: Int32) {
        self.call = call
        self.errno = errno
    }

    public var description: String {
        "\(call) failed: \(String(cString: strerror(errno)))"
    }
}

/// The one narrow door every syscall of the agent goes through.
///
/// Retries `EINTR`, captures `errno` at once (before anything else can clobber it) and
/// throws a `SystemError` naming the call, in the manner of swift-nio's `System.swift`.
public enum Sys {
    /// Calls `body` until it stops failing with `EINTR`; a negative result throws.
    @inline(__always)
    @discardableResult
    public static func call<T: FixedWidthInteger>(_ name: @autoclosure () -> String,
                                                  _ body: () -> T) throws -> T {
        while true {
            let result = body()
            if result >= 0 { return result }
            let err = Glibc.errno
            if err == EINTR { continue }
            throw SystemError(call: name(), errno: err)
        }
    }

    /// Like `call`, but returns `nil` instead of throwing when errno is one of `tolerated`
    /// (for `EAGAIN` on timed sockets, `EPIPE` at the end of a test, and the like).
    @inline(__always)
    public static func callTolerating<T: FixedWidthInteger>(_ name: @autoclosure () -> String,
                                                            _ tolerated: [Int32],
                                                            _ body: () -> T) throws -> T? {
        while true {
            let result = body()
            if result >= 0 { return result }
            let err = Glibc.errno
            if err == EINTR { continue }
            if tolerated.contains(err) { return nil }
            throw SystemError(call: name(), errno: err)
        }
    }
}
