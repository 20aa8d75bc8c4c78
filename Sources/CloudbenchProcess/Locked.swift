import Foundation

/// A value shared between threads behind a lock (reader threads hand their bytes back through it).
public final class Locked<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value

    public init(_ value: Value) { stored = value }

    public var value: Value {
        lock.lock(); defer { lock.unlock() }
        return stored
    }

    /// Changes the value under the lock and returns what `body` returns.
    @discardableResult
    public func withLock<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        lock.lock(); defer { lock.unlock() }
        return try body(&stored)
    }
}
