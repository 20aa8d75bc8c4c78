import Foundation
import Testing
import CloudbenchCore
@testable import CloudbenchReport

/// A report of values nothing can average: the cell is named in the warnings, the rest renders.
@Suite("Hostile values in a report")
struct HostileValuesReportTests {
    static let catalog = try! Catalog.load(directory: TestPaths.providers)

    static func record(_ path: String, _ rep: Int, _ value: Double, test: String = "tcp_bw", unit: String = "MB/s") -> ResultRecord {
        ResultRecord(id: "r/\(path)/\(test)/\(rep)", runID: "r", time: "2026-01-01T00:00:0\(rep)Z", pair: "p", provider: "azure", type: "A2",
                     region: "w", path: path, test: test, repetition: rep, status: .ok, value: value, unit: unit)
    }

    @Test("values [1e308, 1.5e308] (no finite mean) name their cell in the warnings; the other cells render")
    func overflowingValues() {
        let records = [Self.record("host", 1, 1e308), Self.record("host", 2, 1.5e308),
                       Self.record("vxlan", 1, 1e308), Self.record("vxlan", 2, 1.5e308),
                       Self.record("udp", 1, 10), Self.record("udp", 2, 12),
                       Self.record("host", 1, 1e300, test: "tcp_lat", unit: "us")]
        let model = ReportBuilder.build(records: records, catalog: Self.catalog)
        let md = MarkdownRenderer.render(model)
        #expect(md.contains("- ⚠ Microsoft Azure A2 (w) host tcp_bw: 2 records without a usable value (missing, not finite, too large to average, or in a unit that does not fit the test), left out; the cell has no figure"))
        #expect(md.contains("- ⚠ Microsoft Azure A2 (w) vxlan tcp_bw: 2 records without a usable value"))
        #expect(md.contains("| Microsoft Azure | A2 | w | udp |"), "\(md)")
        #expect(md.contains("11.0 (0 to 23.7)"))
        // A huge but finite latency prints in scientific notation instead of trapping in Int().
        #expect(md.contains("1.00e+300"))
        _ = CSVRenderer.render(model)
        _ = SVGRenderer.render(model)
    }
}
