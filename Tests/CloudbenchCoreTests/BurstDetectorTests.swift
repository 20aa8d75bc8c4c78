import Foundation
import Testing
@testable import CloudbenchCore

/// The burst detector on synthetic per-second series (MB/s written as bytes per second).
@Suite("Burst detector")
struct BurstDetectorTests {
    /// ±`amplitude` of deterministic pseudo-noise around each value (a fixed seed: same series every run).
    static func noisy(_ levels: [Double], amplitude: Double, seed: UInt64 = 7) -> [Double] {
        var rng = SplitMix64(seed: seed)
        return levels.map { $0 * (1 + amplitude * (Double(rng.next() % 2001) / 1000 - 1)) }
    }

    static func mb(_ xs: [Double]) -> [Double] { xs.map { $0 * 1e6 } }
    static let detector = BurstDetector()

    @Test("noise only: a steady link with ±10 % per-second noise is never flagged", arguments: [1, 2, 3, 4, 5, 6, 7, 8] as [UInt64])
    func noiseOnly(seed: UInt64) {
        let rates = Self.noisy(Self.mb(Array(repeating: 100, count: 30)), amplitude: 0.10, seed: seed)
        #expect(Self.detector.detect(rates: rates, intervalSeconds: 1) == nil)
    }

    @Test("one drop: 150 MB/s for 4 s, a transition second, then 60 MB/s; rates and time recovered")
    func oneDrop() throws {
        // The credit runs out 0.5 s into the fifth second: (0.5·150 + 0.5·60) = 105 MB/s there.
        let levels = Array(repeating: 150.0, count: 4) + [105] + Array(repeating: 60.0, count: 15)
        let rates = Self.noisy(Self.mb(levels), amplitude: 0.03)
        let burst = try #require(Self.detector.detect(rates: rates, intervalSeconds: 1))
        #expect(abs(burst.burstBytesPerSecond / 150e6 - 1) < 0.03)
        #expect(abs(burst.sustainedBytesPerSecond / 60e6 - 1) < 0.03)
        #expect(abs(burst.burstSeconds - 4.5) < 0.2, "\(burst.burstSeconds)")
    }

    @Test("one drop on an interval boundary, with a short burst (2 of 10 s) and the sustained level 20 % of the test")
    func dropAtEdges() throws {
        let short = try #require(Self.detector.detect(rates: Self.mb([200, 200, 50, 50, 50, 50, 50, 50, 50, 50]), intervalSeconds: 1))
        #expect(short.burstSeconds == 2 && short.sustainedBytesPerSecond == 50e6 && short.burstBytesPerSecond == 200e6)
        // 10 s: the sustained level must hold for ≥ 2 s (20 %); 7 s of burst, transition, 2 s sustained.
        let late = try #require(Self.detector.detect(rates: Self.mb([90, 90, 90, 90, 90, 90, 90, 90, 30, 30]), intervalSeconds: 1))
        #expect(late.sustainedBytesPerSecond == 30e6 && late.burstSeconds == 8)
        // Only 1 s of the lower level: not known to hold.
        #expect(Self.detector.detect(rates: Self.mb([90, 90, 90, 90, 90, 90, 90, 90, 90, 30]), intervalSeconds: 1) == nil)
    }

    @Test("a drop to 75 % is not a burst (the threshold is 70 %)")
    func smallDrop() {
        let rates = Self.mb(Array(repeating: 100, count: 5) + Array(repeating: 75, count: 10))
        #expect(Self.detector.detect(rates: rates, intervalSeconds: 1) == nil)
        let below = Self.mb(Array(repeating: 100, count: 5) + Array(repeating: 69, count: 10))
        #expect(Self.detector.detect(rates: below, intervalSeconds: 1) != nil)
    }

    @Test("slow decay: a steady fall from 100 to 40 MB/s is not a burst, noisy or not", arguments: [0.0, 0.02])
    func slowDecay(noise: Double) {
        let linear = (0..<20).map { 100 - 60 * Double($0) / 19 }
        #expect(Self.detector.detect(rates: Self.noisy(Self.mb(linear), amplitude: noise), intervalSeconds: 1) == nil)
        let exponential = (0..<20).map { 40 + 60 * exp(-Double($0) / 6) }
        #expect(Self.detector.detect(rates: Self.noisy(Self.mb(exponential), amplitude: noise), intervalSeconds: 1) == nil)
    }

    @Test("recovery: a dip to 40 % that comes back is not a burst", arguments: [
        [100, 100, 100, 40, 40, 40, 40, 40, 40, 100, 100, 100] as [Double],
        [100, 100, 100, 40, 40, 40, 40, 40, 40, 40, 40, 100],
        [100, 100, 40, 40, 40, 40, 40, 40, 40, 40, 70, 100, 100],
    ])
    func recovery(levels: [Double]) {
        #expect(Self.detector.detect(rates: Self.mb(levels), intervalSeconds: 1) == nil)
    }

    @Test("too short to tell: fewer than 5 intervals", arguments: [
        [] as [Double], [150], [150, 60], [150, 150, 60, 60],
    ])
    func tooShort(levels: [Double]) {
        #expect(Self.detector.detect(rates: Self.mb(levels), intervalSeconds: 1) == nil)
    }

    @Test("a stall (a short zero dip) is not a burst, wherever it falls", arguments: [
        [100, 100, 100, 100, 0, 0, 100, 100, 100, 100] as [Double],
        [100, 100, 100, 100, 100, 100, 100, 0, 0, 0],
        [100, 100, 100, 100, 100, 100, 0, 0, 100, 100],
        [100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 0, 0, 0],
        [0, 0, 100, 100, 100, 100, 100, 100, 100, 100],
    ])
    func stall(levels: [Double]) {
        #expect(Self.detector.detect(rates: Self.mb(levels), intervalSeconds: 1) == nil)
    }

    @Test("the interval length scales the burst time")
    func intervalLength() throws {
        let burst = try #require(Self.detector.detect(rates: Self.mb([80, 80, 80, 20, 20, 20, 20, 20]), intervalSeconds: 0.5))
        #expect(burst.burstSeconds == 1.5)
    }

    @Test("detail.burst round-trips, and the agent's intervals are read without a partial last one")
    func recordShape() throws {
        let b = Burst(burstBytesPerSecond: 150_000_000.4, sustainedBytesPerSecond: 60_000_000, burstSeconds: 4.5004)
        #expect(b.json == .object(["burst_bytes_per_second": .number(150_000_000), "sustained_bytes_per_second": .number(60_000_000),
                                   "burst_seconds": .number(4.5)]))
        #expect(Burst(json: b.json) == Burst(burstBytesPerSecond: 150_000_000, sustainedBytesPerSecond: 60_000_000, burstSeconds: 4.5))
        #expect(Burst(json: nil) == nil)
        let detail = try JSONValue.parse("""
            {"interval_s":1,"intervals":[{"start_s":0,"end_s":1,"bytes_per_second":5},{"start_s":1,"end_s":2,"bytes_per_second":6},
             {"start_s":2,"end_s":2.5,"bytes_per_second":9}]}
            """)
        #expect(ThroughputTimeline(detail: detail) == ThroughputTimeline(intervalSeconds: 1, rates: [5, 6]))
        #expect(ThroughputTimeline(detail: try JSONValue.parse(#"{"latency_us":3}"#)) == nil)
    }

    @Test("one reader of intervals: the agent's objects and plain MB/s numbers; anything else makes the series unusable")
    func intervalReader() throws {
        func read(_ text: String) throws -> [ThroughputTimeline.Interval]? {
            var out: [ThroughputTimeline.Interval] = []
            let ok = ThroughputTimeline.readIntervals(try JSONValue.parse(text)) { out.append($0); return true }
            return ok ? out : nil
        }
        let agent = try #require(try read(#"{"intervals":[{"start_s":0,"end_s":1,"bytes_per_second":5e6},{"bytes_per_second":7}]}"#))
        #expect(agent.map(\.rate) == [5e6, 7] && agent.map(\.start) == [0, nil] && agent.map(\.end) == [1, nil])
        #expect(agent.allSatisfy { !$0.isPlainNumber })
        let plain = try #require(try read(#"{"intervals":[99.5,100.5]}"#))
        #expect(plain.map(\.rate) == [99.5, 100.5] && plain.allSatisfy(\.isPlainNumber))
        #expect(try read(#"{"intervals":[1,"x"]}"#) == nil)
        #expect(try read(#"{"intervals":[{"start_s":0}]}"#) == nil)
        #expect(try read(#"{"intervals":[1,-2]}"#) == nil)
        #expect(try read(#"{"intervals":{}}"#) == nil)
        #expect(try read(#"{"latency_us":3}"#) == nil)
        // Stopping early is the caller's choice; the timeline stops at the first short interval.
        var seen = 0
        ThroughputTimeline.readIntervals(try JSONValue.parse(#"{"intervals":[1,2,3,4]}"#)) { _ in seen += 1; return seen < 2 }
        #expect(seen == 2)
        // Plain numbers carry no interval length: not a timeline a burst can be read from.
        #expect(ThroughputTimeline(detail: try JSONValue.parse(#"{"interval_s":1,"intervals":[5,6,7]}"#)) == nil)
    }

    @Test("each rule is what rejects its case: without it the case would be flagged")
    func rulesMatter() {
        var noShape = BurstDetector()
        noShape.maximumStepToLine = .infinity
        noShape.maximumResidualShare = 1
        let linear = Self.mb((0..<20).map { 100 - 60 * Double($0) / 19 })
        #expect(noShape.detect(rates: linear, intervalSeconds: 1) != nil)
        var noLevels = BurstDetector()
        noLevels.maximumVariation = .infinity
        noLevels.maximumStepToLine = .infinity
        noLevels.maximumResidualShare = 1
        #expect(noLevels.detect(rates: Self.mb([100, 100, 100, 40, 40, 40, 40, 40, 40, 40, 40, 100]), intervalSeconds: 1) != nil)
        #expect(noLevels.detect(rates: Self.mb([100, 100, 100, 100, 100, 100, 100, 100, 0, 0, 100, 20]), intervalSeconds: 1) != nil)
    }
}
