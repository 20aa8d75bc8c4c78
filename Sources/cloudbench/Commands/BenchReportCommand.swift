import ArgumentParser
import Foundation
import CloudbenchCore
import CloudbenchReport

/// `cloudbench bench-report`: how long loading, statistics and rendering take for N records.
struct BenchReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-report",
        abstract: "Time load-from-JSONL, statistics and rendering on N synthetic records (kept in memory, never saved as results).",
        discussion: """
            Each phase runs --repeat times; the best wall-clock time is shown (other work on the machine only
            ever adds time) with the median, and the process CPU time of the best run.
            """
    )

    @Option(help: "How many synthetic records to generate.")
    var records = 100_000

    @Option(help: "How many times to time each phase.")
    var `repeat` = 3

    @OptionGroup var catalog: CatalogOptions

    func validate() throws {
        // The records are held in memory (about 640 bytes each as JSONL, more decoded).
        guard (1...10_000_000).contains(records) else { throw ValidationError("--records must be from 1 to 10000000") }
        guard (1...100).contains(`repeat`) else { throw ValidationError("--repeat must be from 1 to 100") }
    }

    /// Wall-clock and process CPU time of one run of a phase, in milliseconds.
    struct Timing { var wall: Double; var cpu: Double }

    static func cpuMilliseconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) * 1000 + Double(ts.tv_nsec) / 1e6
    }

    static func time(_ body: () throws -> Void) rethrows -> Timing {
        let clock = ContinuousClock()
        let cpu0 = cpuMilliseconds()
        let d = try clock.measure(body)
        let wall = Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
        return Timing(wall: wall, cpu: cpuMilliseconds() - cpu0)
    }

    func run() throws {
        try ErrorDoor.run {
            let catalog = try self.catalog.load()
            print("bench-report: \(records) SYNTHETIC records (not measurements; held in memory only), best of \(`repeat`)")
            let generated = SyntheticRecords.generate(count: records, catalog: catalog)
            var jsonl = Data()
            let encode = try Self.time {
                var text = ""
                text.reserveCapacity(records * 640)
                for r in generated { text += try r.jsonLine(); text += "\n" }
                jsonl = Data(text.utf8)
            }
            let options = ReportOptions(title: "Synthetic benchmark data (not measurements)")
            var phases: [String: [Timing]] = [:]
            var loaded: ResultStore.Loaded?
            var cells = 0
            var model: ReportModel?
            var md = "", csv = "", charts: [ReportCharts.Chart] = []
            for _ in 0..<`repeat` {
                loaded = nil
                model = nil
                phases["load", default: []].append(Self.time { loaded = ResultStore.load(data: jsonl, name: "synthetic.jsonl") })
                let recs = loaded!.records
                phases["stats", default: []].append(Self.time { cells = ResultStatistics.cells(recs).count })
                phases["model", default: []].append(Self.time {
                    model = ReportBuilder.build(records: recs, catalog: catalog, options: options)
                })
                phases["md", default: []].append(Self.time { md = MarkdownRenderer.render(model!) })
                phases["csv", default: []].append(Self.time { csv = CSVRenderer.render(model!) })
                phases["charts", default: []].append(Self.time { charts = ReportCharts.render(model!) })
            }
            let totals = (0..<`repeat`).map { i in
                Timing(wall: phases["load"]![i].wall + phases["model"]![i].wall + phases["md"]![i].wall + phases["charts"]![i].wall,
                       cpu: phases["load"]![i].cpu + phases["model"]![i].cpu + phases["md"]![i].cpu + phases["charts"]![i].cpu)
            }
            func line(_ name: String, _ runs: [Timing], _ extra: String = "") {
                let best = runs.min { $0.wall < $1.wall }!
                let median = runs.map(\.wall).sorted()[runs.count / 2]
                let label = name.padding(toLength: 34, withPad: " ", startingAt: 0)
                print("  \(label) \(String(format: "%8.1f", best.wall)) ms (median \(String(format: "%.1f", median)), cpu \(String(format: "%.1f", best.cpu)))\(extra)")
            }
            line("encode to JSONL (setup, untimed)", [encode], "  \(jsonl.count / 1_000_000) MB")
            line("load from JSONL", phases["load"]!, "  \(loaded!.records.count) records, \(loaded!.warnings.count) warnings")
            line("statistics alone", phases["stats"]!, "  \(cells) cells")
            line("statistics + report model", phases["model"]!)
            line("render markdown", phases["md"]!, "  \(md.utf8.count) bytes")
            line("render CSV", phases["csv"]!, "  \(csv.utf8.count) bytes")
            line("render charts", phases["charts"]!, "  \(charts.count) SVGs, \(charts.reduce(0) { $0 + $1.svg.utf8.count }) bytes")
            line("total: load + model + md + charts", totals)
        }
    }
}
