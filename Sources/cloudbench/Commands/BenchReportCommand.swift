import ArgumentParser
import Foundation
import CloudbenchCore
import CloudbenchReport

/// `cloudbench bench-report`: how long loading, statistics and rendering take for N records.
struct BenchReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-report",
        abstract: "Time load-from-JSONL, statistics and rendering on N synthetic records (kept in memory, never saved as results)."
    )

    @Option(help: "How many synthetic records to generate.")
    var records = 100_000

    @Option(help: "Provider catalog folder.")
    var providers: String?

    func validate() throws {
        guard records > 0 else { throw ValidationError("--records must be at least 1") }
    }

    func run() throws {
        try BadInput.exitOnError {
            let catalog = try Catalog.load(directory: providers ?? Catalog.defaultDirectory())
            let clock = ContinuousClock()
            func ms(_ d: Duration) -> Double {
                Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
            }
            print("bench-report: \(records) SYNTHETIC records (not measurements; held in memory only)")
            let generated = SyntheticRecords.generate(count: records, catalog: catalog)
            var jsonl = Data()
            let encode = try clock.measure {
                var text = ""
                text.reserveCapacity(records * 600)
                for r in generated { text += try r.jsonLine(); text += "\n" }
                jsonl = Data(text.utf8)
            }
            var loaded: ResultStore.Loaded?
            let load = clock.measure { loaded = ResultStore.load(data: jsonl, name: "synthetic.jsonl") }
            let recs = loaded!.records
            var cells = 0
            let stats = clock.measure { cells = ResultStatistics.cells(recs).count }
            var model: ReportModel?
            let options = ReportOptions(title: "Synthetic benchmark data (not measurements)")
            let build = clock.measure { model = ReportBuilder.build(records: recs, catalog: catalog, options: options) }
            var md = "", csv = "", svg = ""
            let renderMD = clock.measure { md = MarkdownRenderer.render(model!) }
            let renderCSV = clock.measure { csv = CSVRenderer.render(model!) }
            let renderSVG = clock.measure { svg = SVGRenderer.render(model!) }
            let total = load + build + renderMD
            func line(_ name: String, _ d: Duration, _ extra: String = "") {
                print("  \(name.padding(toLength: 34, withPad: " ", startingAt: 0)) \(String(format: "%9.1f", ms(d))) ms\(extra)")
            }
            line("encode to JSONL (setup, untimed)", encode, "  (\(jsonl.count / 1_000_000) MB)")
            line("load from JSONL", load, "  (\(recs.count) records, \(loaded!.warnings.count) warnings)")
            line("statistics alone", stats, "  (\(cells) cells)")
            line("statistics + report model", build)
            line("render markdown", renderMD, "  (\(md.utf8.count) bytes)")
            line("render CSV", renderCSV, "  (\(csv.utf8.count) bytes)")
            line("render SVG", renderSVG, "  (\(svg.utf8.count) bytes)")
            line("total: load + model + markdown", total)
        }
    }
}
