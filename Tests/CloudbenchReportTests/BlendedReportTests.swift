import Foundation
import Testing
import CloudbenchCore
@testable import CloudbenchReport

/// The report never blends unlike cells: the example of issue 12 and its neighbours.
@Suite("Rows that never blend unlike cells")
struct BlendedReportTests {
    static let catalog = try! Catalog.load(directory: TestPaths.providers)

    static func r(_ run: String, _ pair: String, provider: String = "azure", type: String = "D2s_v5", region: String,
                  path: String = "host", test: String = "tcp_bw", rep: Int, _ value: Double, streams: Int? = nil,
                  time: String = "2026-11-20T10:00:00Z") -> ResultRecord {
        var detail: [String: JSONValue] = [:]
        if let streams { detail["streams"] = .number(Double(streams)); detail["direction"] = .string("client_to_server") }
        if test == "tcp_bw" { detail["message_size"] = .number(65536) }
        return ResultRecord(id: ResultRecord.makeID(runID: run, pair: pair, path: path, test: test, repetition: rep), runID: run,
                            time: time, pair: pair, provider: provider, type: type, region: region, path: path, test: test,
                            repetition: rep, status: .ok, value: value, unit: test == "tcp_bw" ? "MB/s" : "us",
                            source: "synthetic test data", detail: .object(detail))
    }

    /// A 1-stream westeurope run near 100 MB/s and an 8-stream eastus run near 1000 MB/s of one type.
    static let blended: [ResultRecord] =
        [96.0, 101, 104].enumerated().map { r("we", "we-d2", region: "westeurope", rep: $0 + 1, $1, streams: 1) }
        + [985.0, 1003, 1022].enumerated().map { r("eus", "eus-d2", region: "eastus", rep: $0 + 1, $1, streams: 8,
                                                     time: "2026-11-21T09:00:00Z") }

    @Test("the blended example gives two rows, each with its region, streams and run")
    func blendedExample() throws {
        let m = ReportBuilder.build(records: Self.blended, catalog: Self.catalog)
        let rows = m.providers.flatMap(\.rows)
        #expect(rows.count == 2)
        #expect(Set(rows.map { $0.throughput?.summary?.n }) == [3])
        let md = MarkdownRenderer.render(m)
        #expect(!md.contains("552"), "the two runs were averaged together")
        #expect(md.contains("| D2s_v5 | eastus | 8 streams, client → server, 64 KiB messages | r2 | 3 | 1,003 ± 46 | 1,003 | 1.8 % | – | n/a[^missing] | n/a | n/a | $0.096 | 10,451 |"))
        #expect(md.contains("| D2s_v5 | westeurope | 1 stream, client → server, 64 KiB messages | r1 | 3 | 100 ± 10 | 101 | 4.0 % | – | n/a[^missing] | n/a | n/a | n/a: no price for westeurope (catalog: eastus)[^no-regional-price] |"))
        #expect(md.contains("  - r1: `we`: 3 records, 2026-11-20"))
    }

    @Test("each row is priced in its own region; `any` prices every region; a missing regional price is said, never borrowed")
    func regionalPrices() throws {
        let recs = [
            Self.r("a", "p1", region: "eastus", rep: 1, 100),
            Self.r("a", "p2", region: "westeurope", rep: 1, 100),
            Self.r("a", "p3", provider: "digitalocean", type: "512mb", region: "nyc1", rep: 1, 100),
            Self.r("a", "p4", region: "unspecified", rep: 1, 100),
        ]
        let m = ReportBuilder.build(records: recs, catalog: Self.catalog)
        let rows = m.providers.flatMap(\.rows)
        func row(_ region: String?, _ provider: String = "azure") -> ReportModel.HostRow? {
            rows.first { $0.key.cell.region == region && $0.key.cell.provider == provider }
        }
        #expect(row("eastus")?.price?.money == Money(Decimal(string: "0.096")!, "USD"))
        #expect(row("westeurope")?.price == nil && row("westeurope")?.priceMissing == "no price for westeurope (catalog: eastus)")
        #expect(row("nyc1", "digitalocean")?.price?.region == "any")
        #expect(row(nil)?.price == nil && row(nil)?.priceMissing == "no region (catalog: eastus)")
        let md = MarkdownRenderer.render(m)
        #expect(md.contains("| D2s_v5 | no region | 1 |"))
        #expect(md.contains("⚠ No price for Microsoft Azure D2s_v5 in westeurope: the catalog prices it only in eastus, and another region's price is never used."))
        #expect(md.contains("⚠ No price for Microsoft Azure D2s_v5: its records name no region"))
        // Not ranked on a borrowed price.
        #expect(m.ranking.first { $0.key.cell.region == "westeurope" }?.rank == nil)
    }

    @Test("overlay versus host: paired when the rounds line up, Welch otherwise, and the report says which")
    func pairedOrWelch() throws {
        let host = [100.0, 102, 98, 101].enumerated().map { Self.r("a", "p", region: "eastus", rep: $0 + 1, $1) }
        let vx = [80.0, 84, 82, 78].enumerated().map { Self.r("a", "p", region: "eastus", path: "vxlan", rep: $0 + 1, $1) }
        let paired = ReportBuilder.build(records: host + vx, catalog: Self.catalog)
        #expect(paired.overlays.first?.throughputVsHost?.method == .paired)
        let md = MarkdownRenderer.render(paired)
        #expect(md.contains("| -19.2 % ± 4.7[^paired] |"))
        #expect(md.contains("[^paired]: Paired:"))
        // The same overlay figures against a host measured in another run: Welch.
        let other = [100.0, 102, 98, 101].enumerated().map { Self.r("b", "p", region: "eastus", rep: $0 + 1, $1) }
        let welch = ReportBuilder.build(records: other + vx, catalog: Self.catalog)
        #expect(welch.overlays.first?.throughputVsHost?.method == .welch)
        #expect(MarkdownRenderer.render(welch).contains("| -19.2 % ± 3.9[^welch] |"))
    }

    @Test("runs merged into one row are named in it")
    func mergedRuns() throws {
        let recs = [Self.r("a", "p", region: "eastus", rep: 1, 100, time: "2026-11-01T00:00:00Z"),
                    Self.r("b", "q", region: "eastus", rep: 1, 104, time: "2026-11-02T00:00:00Z")]
        let m = ReportBuilder.build(records: recs, catalog: Self.catalog)
        #expect(m.providers.flatMap(\.rows).map(\.runs) == [["r1", "r2"]])
        #expect(MarkdownRenderer.render(m).contains("| D2s_v5 | eastus | r1 r2 | 2 | 102 ± 25 |"))
    }

    @Test("a throughput interval that would reach below zero is cut at 0 and says so")
    func clampedCell() throws {
        let recs = [Self.r("a", "p", region: "eastus", rep: 1, 10), Self.r("a", "p", region: "eastus", rep: 2, 100)]
        let md = MarkdownRenderer.render(ReportBuilder.build(records: recs, catalog: Self.catalog))
        #expect(md.contains("| 55.0 (0 to 627)[^clamped] |"))
        #expect(!md.contains("± 572"))
    }

    @Test("UDP and HTTP get a section, a row per cell with their own knobs: UDP offered rate, HTTP object size")
    func otherTests() throws {
        func rec(_ id: String, _ test: String, _ value: Double, _ unit: String, _ detail: [String: JSONValue]) -> ResultRecord {
            ResultRecord(id: id, runID: "a", time: "2026-11-20T10:00:00Z", pair: "p", provider: "azure", type: "D2s_v5",
                         region: "eastus", path: "host", test: test, repetition: Int(id.dropFirst()) ?? 1, status: .ok,
                         value: value, unit: unit, detail: .object(detail))
        }
        let recs = [
            rec("u1", "udp_bw", 98, "MB/s", ["target_bytes_per_second": .number(1e8)]),
            rec("u2", "udp_bw", 99, "MB/s", ["target_bytes_per_second": .number(1e8)]),
            rec("v1", "udp_bw", 240, "MB/s", ["target_bytes_per_second": .number(1e9)]),
            rec("h1", "http", 2.5, "ms", ["size": .number(200_000)]),
            rec("k1", "http", 4.5, "ms", ["size": .number(400_000)]),
        ]
        let m = ReportBuilder.build(records: recs, catalog: Self.catalog)
        #expect(m.others.isEmpty && m.tests.map(\.test) == ["udp_bw", "http"])
        let md = MarkdownRenderer.render(m)
        #expect(md.contains("## UDP throughput and loss (`udp_bw`)") && md.contains("## HTTP object download (`http`)"))
        // Records without loss or percentiles: only what they carry, never a made-up figure.
        #expect(md.contains("| Microsoft Azure | D2s_v5 | eastus | host | client → server | 100 | 2 | 98.5 ± 6.4 | 98.5 | 0.72 % |"))
        #expect(md.contains("| Microsoft Azure | D2s_v5 | eastus | host | client → server | 1,000 | 1 | 240 ± n/a[^single] | 240 | n/a |"))
        #expect(md.contains("| Microsoft Azure | D2s_v5 | eastus | host | 200 kB | 1 | 2.50 ± n/a[^single] |"))
        #expect(md.contains("| Microsoft Azure | D2s_v5 | eastus | host | 400 kB | 1 | 4.50 ± n/a[^single] |"))
        #expect(!md.contains("loss (%)") && !md.contains("p95"))
    }
}
