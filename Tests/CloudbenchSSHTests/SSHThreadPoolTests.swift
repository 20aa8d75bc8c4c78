import Foundation
import Testing
@testable import CloudbenchSSH

/// Blocking SSH calls run on a bounded set of threads, reused from call to call.
@Suite("SSH thread pool")
struct SSHThreadPoolTests {
    @Test("more blocking calls than threads all finish, on no more threads than the limit")
    func bounded() async throws {
        let pool = SSHThreadPool(limit: 4)
        let started = Date()
        let results = await withTaskGroup(of: Int.self, returning: [Int].self) { group in
            for i in 0..<20 {
                group.addTask {
                    await withCheckedContinuation { (c: CheckedContinuation<Int, Never>) in
                        pool.submit { usleep(50_000); c.resume(returning: i) }
                    }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.sorted() == Array(0..<20))
        #expect(pool.threadCount == 4)
        // 20 calls of 50 ms on 4 threads take at least 5 rounds.
        #expect(Date().timeIntervalSince(started) >= 0.24)
    }

    @Test("calls one after another reuse one thread")
    func reused() async throws {
        let pool = SSHThreadPool(limit: 8)
        for i in 0..<10 {
            // Time for the thread to be back waiting (it resumes the caller before it waits again).
            if i > 0 { try await Task.sleep(nanoseconds: 50_000_000) }
            let v = await withCheckedContinuation { (c: CheckedContinuation<Int, Never>) in pool.submit { c.resume(returning: i) } }
            #expect(v == i)
        }
        #expect(pool.threadCount == 1)
    }

    @Test("onSSHThread hands back the work's error")
    func throwsThrough() async {
        struct Boom: Error {}
        await #expect(throws: Boom.self) { try await onSSHThread { () throws -> Int in throw Boom() } }
    }
}
