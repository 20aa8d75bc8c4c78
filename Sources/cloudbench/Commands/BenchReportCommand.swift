import ArgumentParser
import Foundation
import CloudbenchCore
import CloudbenchReport

/// `cloudbench bench-report`: how long `report` takes for N records (`ReportBenchmark` does the work).
struct BenchReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-report",
        abstract: "Time `report`'s load, statistics and rendering on a file of N synthetic records (removed afterwards, never saved as results).",
        discussion: """
            Each phase runs --repeat times; the best wall-clock time is shown (other work on the machine only
            ever adds time) with the median, and the process CPU time of the best run.
            """
    )

    @Option(help: "How many synthetic records to generate.")
    var records = 100_000

    @Option(help: "How many times to time each phase.")
    var `repeat` = 3

    @Option(help: "Folder for the synthetic results file while the benchmark runs (default: the system's temporary folder).")
    var scratch: String?

    @OptionGroup var catalog: CatalogOptions

    func validate() throws {
        // About 640 bytes a record on disk, and every record decoded in memory at once.
        guard (1...10_000_000).contains(records) else { throw ValidationError("--records must be from 1 to 10000000") }
        guard (1...100).contains(`repeat`) else { throw ValidationError("--repeat must be from 1 to 100") }
    }

    func run() throws {
        try ErrorDoor.run {
            let catalog = try self.catalog.load()
            print("bench-report: \(records) SYNTHETIC records (not measurements; a scratch file, removed afterwards), best of \(`repeat`)")
            let result = try ReportBenchmark.run(records: records, repetitions: `repeat`, catalog: catalog,
                                                 scratchDirectory: scratch ?? NSTemporaryDirectory())
            for phase in result.phases + [result.total] {
                let label = phase.name.padding(toLength: 40, withPad: " ", startingAt: 0)
                let best = phase.best
                print("  \(label) \(String(format: "%8.1f", best.wall)) ms (median \(String(format: "%.1f", phase.median)), "
                      + "cpu \(String(format: "%.1f", best.cpu)))" + (phase.note.isEmpty ? "" : "  \(phase.note)"))
            }
        }
    }
}
