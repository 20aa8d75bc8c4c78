import Foundation
import Testing
import CloudbenchCore
@testable import CloudbenchReport

/// The reference study's measurements, imported through `ReferenceCSV` (not typed in) and rendered.
@Suite("Report of the reference study")
struct ReferenceReportTests {
    static let catalog = try! Catalog.load(directory: TestPaths.providers)
    /// Imported as `make reference` does: each provider's rows in the region the study used.
    static let records = try! ReferenceCSV.parse(String(contentsOfFile: TestPaths.referenceCSV, encoding: .utf8),
                                                 file: "reference-study-2015.csv",
                                                 options: .init(regions: ReferenceCSV.Options.studyRegions))
    static let model = ReportBuilder.build(records: records, catalog: catalog)

    static func row(_ provider: String, _ type: String, _ placement: String) throws -> ReportModel.HostRow {
        try #require(model.providers.flatMap(\.rows).first {
            $0.key.cell.provider == provider && $0.key.cell.type == type && $0.key.cell.placement == placement
        })
    }

    @Test("markdown, CSV and SVG match the golden files byte for byte")
    func golden() throws {
        try GoldenFile.check(MarkdownRenderer.render(Self.model), "reference-2015.md")
        try GoldenFile.check(CSVRenderer.render(Self.model), "reference-2015.csv")
        try GoldenFile.check(SVGRenderer.render(Self.model), "reference-2015.svg")
    }

    @Test("the study's figures and the computed columns")
    func figures() throws {
        let md = MarkdownRenderer.render(Self.model)
        // DigitalOcean 512mb: 108 MB/s at $0.007/h → 15,429 MB/s per $/h.
        let droplet = try Self.row("digitalocean", "512mb", "same-region")
        #expect(droplet.throughput?.summary?.mean == 108)
        #expect(droplet.price?.money == Money(Decimal(string: "0.007")!, "USD"))
        #expect(abs(droplet.throughputPerPrice! - 108 / 0.007) < 1e-9)
        #expect(md.contains("| 512mb | ams3 | same-region | 1 | 108 ± n/a[^single] | 108 | n/a | 1 | 157 ± n/a[^single] | 157 | n/a | $0.007 | 15,429 |"))
        // Azure A2: 24.8 MB/s at €0.1207/h, its price in its own currency.
        #expect(md.contains("| A2 | westeurope | same-region | 1 | 24.8 ± n/a[^single] | 24.8 | n/a | 1 | 426 ± n/a[^single] | 426 | n/a | €0.1207 | 205 |"))
        // Flannel VXLAN on D2: 95.1 vs 117 MB/s → −18.7 %.
        let d2 = try #require(Self.model.overlays.first { $0.key.cell.type == "D2" && $0.path == "flannel-vxlan" })
        #expect(abs(d2.throughputVsHost!.percent - (95.1 / 117 - 1) * 100) < 1e-9)
        // One round of each path on the same pair: paired, and no interval from one round.
        #expect(d2.throughputVsHost?.method == .paired)
        #expect(md.contains("| Microsoft Azure | D2 | westeurope | same-region | flannel-vxlan | 1 | 95.1 ± n/a[^single] | 95.1 | n/a | 1 | 231 ± n/a[^single] | 231 | n/a | -18.7 % ± n/a[^single][^paired] |"))
        // AWS placements are separate rows; AWS prices come from the catalog.
        // (The study's same-az and cross-az read as today's same-zone and cross-zone.)
        #expect(try Self.row("aws", "m4.large", "cross-zone").latency?.summary?.mean == 360)
        #expect(try Self.row("aws", "m4.large", "same-zone").latency?.summary?.mean == 96.5)
        #expect(try Self.row("aws", "t2.micro", "same-zone").price?.origin == .catalog)
        #expect(try Self.row("aws", "t2.micro", "same-zone").price?.region == "us-east-1")
        // A8 has overlay figures only: no host to compare with.
        #expect(md.contains("| Microsoft Azure | A8 | westeurope | same-region | weave-sleeve | 1 | 51.0 ± n/a[^single] | 51.0 | n/a | 1 | 188 ± n/a[^single] | 188 | n/a | n/a[^no-host] | n/a[^no-host] |"))
        // Every row has the study's one setup, said once above the tables.
        #expect(md.contains("Every throughput figure: 1 stream, client → server, 64 KiB messages."))
    }

    @Test("the ranking converts EUR at the 2015 rate and names it")
    func ranking() throws {
        let first = try #require(Self.model.ranking.first)
        #expect(first.key.cell.type == "512mb" && first.rank == 1)
        let a2 = try #require(Self.model.ranking.first { $0.key.cell.type == "A2" })
        #expect(a2.conversion?.date == "2015-06-01" && a2.converted?.currency == "USD")
        #expect(Money.rounded(a2.converted!.amount, places: 4) == Decimal(string: "0.1353"))
        let md = MarkdownRenderer.render(Self.model)
        #expect(md.contains("1 EUR = 1.121328 USD, table of 2015-06-01"))
        #expect(!md.contains("[^no-price]:"), "a footnote that no cell uses is not listed")
    }

    @Test("EUR ranking and Mbit/s: the user's currency and unit")
    func euroMegabits() throws {
        let m = ReportBuilder.build(records: Self.records, catalog: Self.catalog,
                                    options: ReportOptions(currency: "EUR", unit: .megabits, title: "Reference study, 2015"))
        let md = MarkdownRenderer.render(m)
        #expect(md.hasPrefix("# Reference study, 2015\n"))
        #expect(md.contains("| 512mb | ams3 | same-region | 1 | 864 ± n/a[^single] |"))
        #expect(md.contains("## Ranking: throughput per price, in EUR"))
        #expect(md.contains("1 USD = 0.8918 EUR, table of 2015-06-01"))
        let a2 = try #require(m.ranking.first { $0.key.cell.type == "A2" })
        #expect(a2.conversion == nil && abs(a2.throughputPerPrice! - 24.8 * 8 / 0.1207) < 1e-9)
    }

    @Test("an inventory price for a pair overrides the recorded price")
    func overrides() throws {
        let price = HourlyPrice(money: Money(Decimal(string: "0.0104")!, "USD"), region: "westeurope", status: .inventory,
                                source: "inventories/x.yaml", asOf: "2015-05-01")
        let m = ReportBuilder.build(records: Self.records, catalog: Self.catalog,
                                    options: ReportOptions(priceOverrides: ["azure-A2-same-region": price]))
        let row = try #require(m.providers.flatMap(\.rows).first { $0.key.cell.type == "A2" })
        #expect(row.price?.money == price.money && row.price?.origin == .override(pair: "azure-A2-same-region"))
        #expect(MarkdownRenderer.render(m).contains("Microsoft Azure A2 (westeurope, same-region): $0.0104, inventory, inventories/x.yaml, for region westeurope, as of 2015-05-01"))
    }
}
