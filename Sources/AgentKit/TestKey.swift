#if canImport(Glibc)
import Glibc
#endif

/// The single-use key a client presents for one test: `<test id>:<HMAC-SHA256(run key, test id)>`.
/// The client picks the test id at random, so the run key itself never crosses the network, and
/// the server accepts each test id once: a key seen on the wire is worthless afterwards.
public struct TestKey: Equatable, Sendable {
    public let testID: String
    public let mac: String

    /// A test id is 16 to 64 lower-case hex digits.
    static let testIDLength = 16...64

    public static func derive(runKey: String, testID: String) -> TestKey {
        TestKey(testID: testID, mac: HMAC.hex(HMAC.sha256(key: Array(runKey.utf8),
                                                          message: Array("cloudbench-agent/1 test \(testID)".utf8))))
    }

    /// A key for a new test, with 128 random bits of test id.
    public static func fresh(runKey: String) -> TestKey {
        derive(runKey: runKey, testID: randomID())
    }

    /// Whether `s` is shaped like `randomID`'s: 32 lower-case hex digits.
    public static func isRandomID(_ s: String) -> Bool {
        s.utf8.count == 32 && s.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }

    /// 128 random bits as 32 lower-case hex digits.
    public static func randomID() -> String {
        var rng = SystemRandomNumberGenerator()
        return (0..<2).map { _ in String(rng.next() as UInt64, radix: 16) }
            .map { String(repeating: "0", count: 16 - $0.count) + $0 }.joined()
    }

    public var wire: String { "\(testID):\(mac)" }

    /// `id:mac` from a control line; nil when it is not shaped like a key.
    public init?(wire: Substring) {
        let parts = wire.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, TestKey.testIDLength.contains(parts[0].count), parts[1].count == 64,
              parts.allSatisfy({ $0.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) } })
        else { return nil }
        self.init(testID: String(parts[0]), mac: String(parts[1]))
    }

    init(testID: String, mac: String) {
        self.testID = testID
        self.mac = mac
    }

    /// Whether `runKey` made this key, compared in constant time.
    public func isValid(for runKey: String) -> Bool {
        HMAC.equal(Array(mac.utf8), Array(TestKey.derive(runKey: runKey, testID: testID).mac.utf8))
    }
}

/// The test ids a server has accepted: each key is good for one test.
public struct SpentKeys: Sendable {
    /// More tests than any server lease runs; past it the server refuses new keys rather than
    /// forget old ones.
    public static let capacity = 1_000_000
    private var ids: Set<String> = []

    public init() {}

    public enum Verdict: Equatable, Sendable { case accepted, wrong, spent, full }

    /// Checks `key` against the run key and, when good and new, spends it.
    public mutating func spend(_ key: TestKey?, runKey: String) -> Verdict {
        guard let key, key.isValid(for: runKey) else { return .wrong }
        guard !ids.contains(key.testID) else { return .spent }
        guard ids.count < SpentKeys.capacity else { return .full }
        ids.insert(key.testID)
        return .accepted
    }
}
