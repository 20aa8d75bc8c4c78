import Foundation
import Testing
import CloudbenchCore
@testable import CloudbenchReport

/// The report's burst section and timeline charts, from hand-made records (synthetic, for the test only).
@Suite("Report of burst credits")
struct BurstReportTests {
    static let catalog = try! Catalog.load(directory: TestPaths.providers)

    /// A tcp_bw record as `compare` writes it: the agent's intervals, then `recordBurst()`.
    static func record(pair: String, type: String, rates: [Double]) -> ResultRecord {
        let intervals: [JSONValue] = rates.enumerated().map { i, r in
            .object(["start_s": .number(Double(i)), "end_s": .number(Double(i + 1)), "bytes": .number(r),
                     "bytes_per_second": .number(r)])
        }
        var rec = ResultRecord(id: ResultRecord.makeID(runID: "run-x", pair: pair, path: "host", test: "tcp_bw", repetition: 1),
                               runID: "run-x", time: "2026-03-01T10:00:00Z", pair: pair, provider: "aws", type: type, region: "lab",
                               placement: nil, path: "host", test: "tcp_bw", repetition: 1, status: .ok, error: nil,
                               value: rates.reduce(0, +) / Double(rates.count) / 1e6, unit: "MB/s", price: nil,
                               source: "synthetic test data",
                               detail: .object(["interval_s": .number(1), "intervals": .array(intervals),
                                                "receiver_bytes_per_second": .number(rates.reduce(0, +) / Double(rates.count))]))
        rec.recordBurst()
        return rec
    }

    static let burstRates = [126e6, 126e6, 126e6, 126e6, 67e6] + Array(repeating: 8e6, count: 7)
    static let steadyRates = Array(repeating: 60e6, count: 12)

    @Test("a burst cell: its value becomes the sustained rate and detail.burst holds both rates")
    func recorded() throws {
        let r = Self.record(pair: "t2", type: "t2.small", rates: Self.burstRates)
        #expect(r.value == 8)
        #expect(r.detail?["burst"] == .object(["burst_bytes_per_second": .number(126e6), "sustained_bytes_per_second": .number(8e6),
                                                "burst_seconds": .number(4.5)]))
        #expect(Self.record(pair: "m4", type: "m4.large", rates: Self.steadyRates).detail?["burst"] == nil)
    }

    @Test("the section lists each burst cell under the throughput tables, links its chart, and is absent without bursts")
    func markdown() throws {
        let records = [Self.record(pair: "t2", type: "t2.small", rates: Self.burstRates),
                       Self.record(pair: "m4", type: "m4.large", rates: Self.steadyRates)]
        var options = ReportOptions()
        options.linksBurstTimelines = true
        var model = ReportBuilder.build(records: records, catalog: Self.catalog, options: options)
        model.bursts = BurstReport.cells(records: records, catalog: Self.catalog)
        let md = MarkdownRenderer.render(model)
        #expect(md.contains("""
            | provider | instance type | pair | path | rep | burst (MB/s) | burst for (s) | sustained (MB/s) | timeline |
            |---|---|---|---|--:|--:|--:|--:|---|
            | Amazon Web Services | t2.small | t2 | host | 1 | 126 | 4.5 | 8.00 | [chart](burst-run-x-t2-host-tcp_bw-1.svg) |
            """))
        #expect(md.contains("| t2.small | lab | 1 | 8.00 ± n/a[^single] |"), "the table shows the sustained rate")
        #expect(md.range(of: "## Burst credits")!.lowerBound < md.range(of: "## Ranking")!.lowerBound)
        var bits = options
        bits.unit = .megabits
        bits.linksBurstTimelines = false
        var plain = ReportBuilder.build(records: records, catalog: Self.catalog, options: bits)
        plain.bursts = model.bursts
        #expect(MarkdownRenderer.render(plain).contains("| Amazon Web Services | t2.small | t2 | host | 1 | 1,008 | 4.5 | 64.0 |\n"))
        let none = ReportBuilder.build(records: [records[1]], catalog: Self.catalog, options: options)
        #expect(!MarkdownRenderer.render(none).contains("Burst credits"))
    }

    @Test("the timeline chart: one bar per interval, the levels and the drop, written beside the report")
    func timeline() throws {
        let cell = try #require(BurstReport.cells(records: [Self.record(pair: "t2", type: "t2.small", rates: Self.burstRates)],
                                                  catalog: Self.catalog).first)
        let svg = BurstReport.timelineSVG(cell, unit: .megabytes)
        #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
        #expect(svg.components(separatedBy: "fill=\"#ff7f0e\"").count - 1 == 4, "four whole seconds at the burst rate")
        #expect(svg.components(separatedBy: "fill=\"#1f77b4\"").count - 1 == 8)
        #expect(svg.contains("burst 126 for 4.5 s, then 8.00 sustained"))
        var written: [String: String] = [:]
        let paths = BurstReport.writeTimelines([cell], unit: .megabytes, besideReport: "reports/demo.md") { written[$1] = $0 }
        #expect(paths == ["reports/burst-run-x-t2-host-tcp_bw-1.svg"] && written[paths[0]] == svg)
    }
}
