import Foundation
import Testing
import CloudbenchCore
@testable import CloudbenchReport

@Suite("bench-report's synthetic records")
struct SyntheticRecordsTests {
    static let catalog = try! Catalog.load(directory: TestPaths.providers)

    @Test("labelled synthetic, repeatable, unique ids, every cell filled")
    func shape() throws {
        let a = SyntheticRecords.generate(count: 5000, catalog: Self.catalog)
        let b = SyntheticRecords.generate(count: 5000, catalog: Self.catalog)
        #expect(a == b)
        #expect(a.count == 5000 && Set(a.map(\.id)).count == 5000)
        #expect(a.allSatisfy { $0.source == SyntheticRecords.source && $0.runID == SyntheticRecords.runID && $0.detail?["synthetic"] == .bool(true) })
        let failed = a.filter { $0.status == .failed }.count
        #expect(failed > 0 && failed < 250)
        let cells = ResultStatistics.cells(a)
        #expect(cells.values.allSatisfy { $0.summary != nil })
    }

    @Test("its calendar arithmetic agrees with the date formatter", arguments: [0, 951_782_400, 1_767_225_600, 1_709_164_799, 4_102_444_800])
    func isoTime(seconds: Int) {
        #expect(SyntheticRecords.isoTime(seconds) == Importer.isoTime(Double(seconds)))
    }

    @Test("a report of them is labelled and renders every section")
    func report() throws {
        let recs = SyntheticRecords.generate(count: 3000, catalog: Self.catalog)
        let m = ReportBuilder.build(records: recs, catalog: Self.catalog, options: ReportOptions(title: "Synthetic benchmark data (not measurements)"))
        let md = MarkdownRenderer.render(m)
        #expect(md.hasPrefix("# Synthetic benchmark data (not measurements)\n"))
        #expect(!m.overlays.isEmpty && !m.ranking.isEmpty && m.providers.count == 3)
        #expect(SVGRenderer.render(m).hasPrefix("<svg "))
        // Every test type, with the figures its section shows, and every chart.
        #expect(m.tests.map(\.test) == ["tcp_bw", "tcp_lat", "tcp_crr", "udp_bw", "udp_pps", "http"])
        let figures = Set(m.tests.flatMap(\.figures))
        for f in [DetailFigures.Figure.rttP99, .udpLoss, .udpJitter, .httpNewP95, .cpuClientPerGB, .stealServer] { #expect(figures.contains(f)) }
        // Every chart of pairs' records (synthetic records have no groups: GroupReportTests draws theirs).
        #expect(Set(ReportCharts.render(m).map(\.kind)) == Set(ReportCharts.Kind.allCases.filter { $0 != .groups }))
        #expect(md.contains("## HTTP object download (`http`)") && md.contains("## Per-second throughput: drops and stalls"))
    }
}
