import CloudbenchOrchestrator
import CloudbenchProcess
import Foundation
import Testing

@Suite("Run ids")
struct RunIDTests {
    @Test("runs started in the same second get different ids, also when claimed at once from many threads")
    func sameSecond() throws {
        let dir = NSTemporaryDirectory() + "cb-runid-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let when = Date(timeIntervalSince1970: 1_795_000_000)
        #expect(try claimRunID(name: "lab", directory: dir, at: when) == "lab-20261118-110640")
        #expect(try claimRunID(name: "lab", directory: dir, at: when) == "lab-20261118-110640-2")
        let ids = Locked<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 16) { _ in
            if let id = try? claimRunID(name: "lab", directory: dir, at: when) { ids.withLock { $0.append(id) } }
        }
        #expect(ids.value.count == 16 && Set(ids.value).count == 16)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).count == 18)
    }
}
