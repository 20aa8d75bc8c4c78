import Foundation
import Testing
@testable import CloudbenchCore

/// Expected values are worked out by hand in the comments (t quantiles from a printed t table).
@Suite("Statistics")
struct StatisticsTests {
    static func close(_ a: Double?, _ b: Double?, _ tol: Double = 1e-6) -> Bool {
        guard let a, let b else { return a == nil && b == nil }
        return abs(a - b) <= tol * max(1, abs(b))
    }

    struct Case: Sendable, CustomStringConvertible {
        var values: [Double]
        var mean, median, min, max: Double
        var stddev, cv, half: Double?
        var description: String { "\(values)" }
    }

    @Test("summary of one cell", arguments: [
        // n = 1: no spread, no interval (never 0).
        Case(values: [108], mean: 108, median: 108, min: 108, max: 108, stddev: nil, cv: nil, half: nil),
        // s = √((1+1)/1) = 1.414214; t(0.975, 1) = 12.706205; half = 12.706205·1.414214/√2 = 12.706205.
        Case(values: [11, 9], mean: 10, median: 10, min: 9, max: 11, stddev: 1.4142135623730951,
             cv: 0.14142135623730951, half: 12.706204736174694),
        // s = √((4+0+4)/2) = 2; t(0.975, 2) = 4.302653; half = 4.302653·2/√3 = 4.968275.
        Case(values: [14, 10, 12], mean: 12, median: 12, min: 10, max: 14, stddev: 2, cv: 2.0 / 12,
             half: 4.9682754235006605),
        // Σ(x−x̄)² = 0.4356+0.2916+0.0016+0.0576+0.0256 = 0.812; s = √0.203 = 0.450555;
        // t(0.975, 4) = 2.776445; half = 2.776445·0.450555/√5 = 0.559438.
        Case(values: [24.1, 25.3, 24.8, 25.0, 24.6], mean: 24.76, median: 24.8, min: 24.1, max: 25.3,
             stddev: 0.450555213042752, cv: 0.018196898749707268, half: 0.5594381872382121),
        // Even n: the median is the mean of the middle two; zero spread gives a zero-width interval.
        Case(values: [5, 5, 5, 5], mean: 5, median: 5, min: 5, max: 5, stddev: 0, cv: 0, half: 0),
        Case(values: [4, 1, 3, 2], mean: 2.5, median: 2.5, min: 1, max: 4, stddev: 1.2909944487358056,
             cv: 0.5163977794943222, half: 2.0542602567605206),
    ])
    func summary(_ c: Case) throws {
        let s = try #require(Summary(c.values))
        #expect(s.n == c.values.count)
        #expect(Self.close(s.mean, c.mean))
        #expect(Self.close(s.median, c.median))
        #expect(s.min == c.min && s.max == c.max)
        #expect(Self.close(s.stddev, c.stddev))
        #expect(Self.close(s.coefficientOfVariation, c.cv))
        #expect(Self.close(s.confidenceInterval?.halfWidth, c.half))
        if let ci = s.confidenceInterval { #expect(Self.close((ci.low + ci.high) / 2, c.mean)) }
    }

    @Test("equal values have no spread, whatever the rounding of their sum", arguments: [0.4, 0.1, 1e-7, 3.3, 123_456.789])
    func equalValues(x: Double) throws {
        for n in 2...7 {
            let s = try #require(Summary(Array(repeating: x, count: n)))
            #expect(s.mean == x && s.stddev == 0 && s.confidenceInterval?.halfWidth == 0, "\(n) × \(x): \(s)")
        }
    }

    @Test("no values, no summary")
    func empty() { #expect(Summary([]) == nil) }

    @Test("two-sided 95 % t critical values match the printed table", arguments: [
        (1.0, 12.706), (2, 4.303), (3, 3.182), (4, 2.776), (9, 2.262), (29, 2.045), (100, 1.984), (1000, 1.962),
        (4.959183673469387, 2.577), (1500, 1.9615),
    ])
    func tTable(df: Double, t: Double) {
        #expect(abs(StudentT.critical(df: df) - t) < 0.0006, "df \(df): \(StudentT.critical(df: df))")
    }

    @Test("t quantiles for other confidence levels")
    func otherLevels() {
        #expect(abs(StudentT.critical(confidence: 0.90, df: 5) - 2.015) < 0.0005)
        #expect(abs(StudentT.critical(confidence: 0.99, df: 10) - 3.169) < 0.0005)
        #expect(abs(StudentT.cdf(0, df: 7) - 0.5) < 1e-12)
    }

    @Test("overlay penalty: Welch interval of the difference, in % of the host mean")
    func welch() throws {
        // host 100, 102, 98: x̄ = 100, s² = 4, n = 3.  path 80, 84, 82, 78: x̄ = 81, s² = 20/3, n = 4.
        // d = −19 → −19 %.  s²/n: 5/3 and 4/3; SE² = 3.
        // ν = 9 / ((5/3)²/3 + (4/3)²/2) = 9 / (0.925926 + 0.888889) = 4.959184; t(0.975, ν) = 2.576958.
        // interval = (−19 ± 2.576958·√3) % = −23.4634 % … −14.5366 %.
        let host = try #require(Summary([100, 102, 98]))
        let path = try #require(Summary([80, 84, 82, 78]))
        let p = try #require(OverlayPenalty(path: path, host: host))
        #expect(Self.close(p.percent, -19))
        #expect(Self.close(p.degreesOfFreedom, 4.959183673469387))
        #expect(Self.close(p.interval?.low, -23.463422962677576, 1e-5))
        #expect(Self.close(p.interval?.high, -14.536577037322424, 1e-5))
    }

    @Test("overlay penalty with one repetition has a point estimate and no interval")
    func welchSingle() throws {
        // The reference study: Flannel VXLAN on Azure D2 95.1 MB/s vs host 117 MB/s → −18.72 %.
        let p = try #require(OverlayPenalty(path: Summary([95.1])!, host: Summary([117])!))
        #expect(Self.close(p.percent, (95.1 - 117) / 117 * 100))
        #expect(p.interval == nil)
        let q = try #require(OverlayPenalty(path: Summary([90, 92])!, host: Summary([117])!))
        #expect(q.interval == nil)
        #expect(OverlayPenalty(path: Summary([1])!, host: Summary([0])!) == nil)
    }

    static func record(_ id: String, pair: String = "p", type: String = "A2", placement: String? = nil, path: String = "host",
                       test: String = "tcp_bw", status: ResultRecord.Status = .ok, value: Double?, unit: String? = "MB/s",
                       run: String = "r1") -> ResultRecord {
        ResultRecord(id: id, runID: run, time: "2026-01-01T00:00:00Z", pair: pair, provider: "azure", type: type,
                     region: "westeurope", placement: placement, path: path, test: test, repetition: 1,
                     status: status, error: status == .failed ? "timeout" : nil, value: value, unit: unit)
    }

    /// The identity of a cell of `record`'s defaults (azure A2 in westeurope, knobs from no detail).
    static func id(_ placement: String?, _ path: String, _ test: String) -> CellIdentity {
        CellIdentity(record("x", placement: placement, path: path, test: test, value: 1))
    }

    @Test("cells group by provider, type, placement, path and test; failures are counted, not averaged")
    func cells() throws {
        let rs = [
            Self.record("1", value: 24), Self.record("2", pair: "q", value: 26, run: "r2"),
            Self.record("3", status: .failed, value: nil),
            Self.record("4", value: 0.2, unit: "Gbit/s"),             // 25 MB/s
            Self.record("5", value: 3, unit: "furlongs"),             // unusable
            Self.record("6", status: .ok, value: nil),                // unusable
            Self.record("7", placement: "cross-az", value: 50),
            Self.record("8", path: "vxlan", value: 20),
            Self.record("9", test: "tcp_lat", value: 0.4, unit: "ms"), // 400 µs
        ]
        let cells = ResultStatistics.cells(rs)
        #expect(cells.count == 4)
        let host = try #require(cells[Self.id(nil, "host", "tcp_bw")])
        #expect(host.summary?.n == 3)
        #expect(Self.close(host.summary?.mean, 25))
        #expect(host.failed == 1 && host.unusable == 2)
        #expect(host.pairs == ["p", "q"] && host.runIDs == ["r1", "r2"])
        let lat = try #require(cells[Self.id(nil, "host", "tcp_lat")])
        #expect(lat.unit == "us" && lat.summary?.mean == 400)
        #expect(cells[Self.id("cross-az", "host", "tcp_bw")]?.summary?.mean == 50)
        let vx = Self.id(nil, "vxlan", "tcp_bw")
        #expect(Self.close(ResultStatistics.penalty(of: vx, in: cells)?.percent, -20))
    }

    @Test("a cell of only failed records has no summary")
    func onlyFailed() throws {
        let cells = ResultStatistics.cells([Self.record("1", status: .failed, value: nil), Self.record("2", status: .failed, value: nil)])
        let c = try #require(cells.values.first)
        #expect(c.summary == nil && c.failed == 2)
    }

    @Test("the result does not depend on record order")
    func orderIndependent() {
        let rs = (0..<50).map { Self.record("\($0)", value: Double(($0 * 37) % 11) + 0.1 * Double($0)) }
        #expect(ResultStatistics.cells(rs) == ResultStatistics.cells(rs.reversed()))
    }
}
