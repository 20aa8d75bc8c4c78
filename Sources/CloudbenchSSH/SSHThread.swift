import Foundation

/// Runs blocking SSH work (connect, exec, upload) on a thread of the SSH pool and awaits the result.
///
/// libssh2 calls block for up to their deadlines; on Swift's cooperative pool, which has only
/// as many threads as cores, a few of them would stall every other task. The SSH pool's threads
/// are made as work needs them, kept for the next call, and never more than
/// `SSHThreadPool.limit`: past that, calls wait their turn (a run over hundreds of hosts is
/// bounded by the network, not by threads). A session is used by one thread at a time, as
/// libssh2 requires (`SSHShell` serialises its calls).
public func onSSHThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        SSHThreadPool.shared.submit { continuation.resume(with: Result { try work() }) }
    }
}

/// The non-throwing form of `onSSHThread`.
public func onSSHThread<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        SSHThreadPool.shared.submit { continuation.resume(returning: work()) }
    }
}

/// A bounded set of threads for blocking calls, first come first served.
public final class SSHThreadPool: @unchecked Sendable {
    /// The threads `compare` may have blocked in SSH calls at once (issue 11: at most 200 threads
    /// in all for 120 pairs, each pair with one blocking call at a time).
    public static let limit = 150
    static let shared = SSHThreadPool(limit: limit)

    private let condition = NSCondition()
    private var queue: [@Sendable () -> Void] = []
    private var head = 0
    private var threads = 0
    /// Threads waiting for work.
    private var waiting = 0
    let maxThreads: Int

    init(limit: Int) { maxThreads = max(1, limit) }

    /// Threads made so far (they are kept).
    public var threadCount: Int { condition.lock(); defer { condition.unlock() }; return threads }

    func submit(_ work: @escaping @Sendable () -> Void) {
        condition.lock()
        queue.append(work)
        // A new thread only when the queued work outnumbers the threads waiting for it.
        if queue.count - head > waiting, threads < maxThreads {
            threads += 1
            let thread = Thread { [self] in loop() }
            thread.name = "cloudbench-ssh"
            thread.start()
        }
        condition.signal()
        condition.unlock()
    }

    private func loop() {
        while true {
            condition.lock()
            while head == queue.count {
                waiting += 1
                condition.wait()
                waiting -= 1
            }
            let work = queue[head]
            head += 1
            if head == queue.count { queue.removeAll(keepingCapacity: true); head = 0 }
            condition.unlock()
            work()
        }
    }
}
