import Foundation

/// Runs blocking SSH work (connect, exec, upload) on a thread of its own and awaits the result.
///
/// libssh2 calls block for up to their deadlines; on Swift's cooperative pool, which has only
/// as many threads as cores, a few of them would stall every other task. A session created
/// inside `work` is used by that one thread only, as libssh2 requires.
public func onSSHThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread { continuation.resume(with: Result { try work() }) }
        thread.name = "cloudbench-ssh"
        thread.start()
    }
}

/// The non-throwing form of `onSSHThread`.
public func onSSHThread<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        let thread = Thread { continuation.resume(returning: work()) }
        thread.name = "cloudbench-ssh"
        thread.start()
    }
}
