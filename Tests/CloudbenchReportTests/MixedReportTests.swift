import Foundation
import Testing
import CloudbenchCore
@testable import CloudbenchReport

/// Hand-made records (labelled synthetic, for the test only) with repetitions, failures,
/// missing cells, an unknown provider and old catalog prices.
@Suite("Report of repetitions, failures and missing values")
struct MixedReportTests {
    static let catalog = try! Catalog.load(directory: TestPaths.providers)

    static func r(_ run: String, _ time: String, _ pair: String, _ provider: String, _ type: String, _ placement: String?,
                  _ path: String, _ test: String, _ rep: Int, _ value: Double?, price: Money? = nil) -> ResultRecord {
        ResultRecord(id: ResultRecord.makeID(runID: run, pair: pair, path: path, test: test, repetition: rep), runID: run,
                     time: time, pair: pair, provider: provider, type: type, region: regions[provider] ?? "", placement: placement, path: path,
                     test: test, repetition: rep, status: value == nil ? .failed : .ok,
                     error: value == nil ? "server did not answer within 30 s" : nil, value: value,
                     unit: test == "tcp_bw" ? "MB/s" : "us", price: price, source: "synthetic test data")
    }

    /// Each provider's pairs in one region (the catalog prices azure in eastus, DigitalOcean in `any`).
    static let regions = ["azure": "eastus", "aws": "us-east-1", "digitalocean": "nyc1", "hetzner": "fsn1"]

    static let records: [ResultRecord] = {
        let a = "2026-03-01T10:00:00Z", b = "2026-03-02T10:00:00Z"
        var rs: [ResultRecord] = []
        // Azure D2s_v5: host 100, 102, 98 (+1 failed); vxlan 80, 84, 82, 78; vxlan latency only failed.
        for (i, v) in [100.0, 102, 98, nil].enumerated() { rs.append(r("run-a", a, "az", "azure", "D2s_v5", nil, "host", "tcp_bw", i + 1, v)) }
        for (i, v) in [50.0, 52].enumerated() { rs.append(r("run-a", a, "az", "azure", "D2s_v5", nil, "host", "tcp_lat", i + 1, v)) }
        for (i, v) in [80.0, 84, 82, 78].enumerated() { rs.append(r("run-a", a, "az", "azure", "D2s_v5", nil, "vxlan", "tcp_bw", i + 1, v)) }
        rs.append(r("run-a", a, "az", "azure", "D2s_v5", nil, "vxlan", "tcp_lat", 1, nil))
        // AWS m5.large: one repetition, price recorded with the run; latency failed.
        let usd = Money(Decimal(string: "0.096")!, "USD")
        rs.append(r("run-b", b, "aws1", "aws", "m5.large", "same-az", "host", "tcp_bw", 1, 120, price: usd))
        rs.append(r("run-b", b, "aws1", "aws", "m5.large", "same-az", "host", "tcp_lat", 1, nil, price: usd))
        // DigitalOcean: catalog price from 2025-06-01, 274 days before the newest record.
        for (i, v) in [90.0, 95].enumerated() { rs.append(r("run-b", b, "do1", "digitalocean", "s-1vcpu-1gb", nil, "host", "tcp_bw", i + 1, v)) }
        // A provider no catalog knows: no price anywhere.
        for (i, v) in [50.0, 55, 52].enumerated() { rs.append(r("run-b", b, "hz", "hetzner", "cx22", nil, "host", "tcp_bw", i + 1, v)) }
        return rs
    }()

    static func render(_ records: [ResultRecord]) -> ReportModel {
        ReportBuilder.build(records: records, catalog: catalog, options: ReportOptions(title: "Mixed"),
                            inputWarnings: ["results/run-b.jsonl:9: skipped a truncated last line (the run was interrupted while writing it)"],
                            duplicates: 2)
    }

    @Test("markdown, CSV and SVG match the golden files")
    func golden() throws {
        let m = Self.render(Self.records)
        try GoldenFile.check(MarkdownRenderer.render(m), "mixed.md")
        try GoldenFile.check(CSVRenderer.render(m), "mixed.csv")
        try GoldenFile.check(SVGRenderer.render(m), "mixed.svg")
    }

    @Test("same records in any order and split differently give the same bytes")
    func deterministic() {
        var g = SplitMix(seed: 7)
        let shuffled = Self.records.shuffled(using: &g)
        #expect(MarkdownRenderer.render(Self.render(shuffled)) == MarkdownRenderer.render(Self.render(Self.records)))
        #expect(CSVRenderer.render(Self.render(shuffled)) == CSVRenderer.render(Self.render(Self.records)))
        #expect(SVGRenderer.render(Self.render(shuffled)) == SVGRenderer.render(Self.render(Self.records)))
    }

    @Test("intervals, failures and missing values as a reader sees them")
    func cells() {
        let md = MarkdownRenderer.render(Self.render(Self.records))
        // host: x̄ = 100, s = 2, t(0.975, 2) = 4.303 → ± 4.303·2/√3 = 4.97 → "5.0"; one failed counted, not averaged;
        // median 100, CV 2 %; latency n = 2.
        #expect(md.contains("| D2s_v5 | eastus | – | r1 | 3 | 100 ± 5.0 (1 failed[^failed]) | 100 | 2.0 % | 2 | 51.0 ± 13 | 51.0 | 2.8 % | $0.096 | 1,042 |"))
        // vxlan: x̄ = 81, s = 2.582, ± 3.182·2.582/2 = 4.11; −19 % ± 2.577·√3 = 4.46 (Welch, ν = 4.96: the host's
        // fourth round failed, so the rounds do not pair); its latency cell has only a failure.
        #expect(md.contains("| vxlan | 4 | 81.0 ± 4.1 | 81.0 | 3.2 % | 0 | n/a[^missing] (1 failed[^failed]) | n/a | n/a | -19.0 % ± 4.5[^welch] | n/a[^missing] |"))
        // n = 1: the interval is n/a, never 0.
        #expect(md.contains("| m5.large | us-east-1 | same-zone | r2 | 1 | 120 ± n/a[^single] | 120 | n/a | 0 | n/a[^missing] (1 failed[^failed]) | n/a | n/a | $0.096 | 1,250 |"))
        // Never measured: n is "–", not 0.
        #expect(md.contains("| cx22 | fsn1 | – | r2 | 3 | 52.3 ± 6.3 | 52.0 | 4.8 % | – | n/a[^missing] | n/a | n/a | n/a[^no-price] | n/a[^no-price] |"))
        #expect(md.contains("⚠ The price of DigitalOcean s-1vcpu-1gb (nyc1) is from 2025-06-01, 274 days before the newest record"))
        #expect(md.contains("⚠ results/run-b.jsonl:9: skipped a truncated last line"))
        #expect(md.contains("2 duplicates counted once"))
        // Nothing missing is printed as a 0 figure (an n of 0 counts attempts that all failed).
        #expect(!md.contains("± 0 ") && !md.contains("| 0 ±") && !md.contains("| 0 (") && !md.contains("| 0 % |"))
    }
}

/// A seeded generator so shuffles repeat exactly.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
