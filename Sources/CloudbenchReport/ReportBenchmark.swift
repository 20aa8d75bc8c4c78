import CloudbenchCore
import Foundation

/// `cloudbench bench-report`: how long `cloudbench report --out` takes for N records, timed
/// phase by phase through the very functions `report` calls (`ResultStore.load(paths:)`,
/// `ReportService.model`, `ReportFiles.write`), on a JSONL file of synthetic records.
///
/// The file is written to a scratch folder first (untimed) and removed afterwards; it is never
/// written as results. Each phase runs `repetitions` times: the best wall-clock time counts
/// (other work on the machine only ever adds time), with the median and the process CPU time.
public enum ReportBenchmark {
    /// Wall-clock and process CPU time of one run of a phase, in milliseconds.
    public struct Timing: Sendable {
        public var wall: Double
        public var cpu: Double
    }

    /// One phase's runs and what it produced (`records`, `bytes`, …).
    public struct Phase: Sendable {
        public var name: String
        public var runs: [Timing]
        public var note: String

        public var best: Timing { runs.min { $0.wall < $1.wall }! }
        public var median: Double { runs.map(\.wall).sorted()[runs.count / 2] }
    }

    public struct Result: Sendable {
        public var records: Int
        public var repetitions: Int
        /// Writing the synthetic file (untimed setup), then each timed phase.
        public var phases: [Phase]
        /// load + model + files of each repetition: what `report --out` costs after start-up.
        public var total: Phase
    }

    public static let title = "Synthetic benchmark data (not measurements)"

    /// Generates `records` synthetic records into a file under `scratchDirectory`, times the
    /// report phases `repetitions` times, and removes the file.
    public static func run(records: Int, repetitions: Int, catalog: Catalog, scratchDirectory: String) throws -> Result {
        precondition(records > 0 && repetitions > 0)
        let folder = (scratchDirectory as NSString).appendingPathComponent("cloudbench-bench-report-\(getpid())")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let file = "\(folder)/synthetic.jsonl"

        var fileBytes = 0
        let write = try time { fileBytes = try writeSynthetic(count: records, catalog: catalog, to: file) }

        let options = ReportOptions(title: title)
        var load: [Timing] = [], model: [Timing] = [], files: [Timing] = [], csv: [Timing] = []
        var loadNote = "", modelNote = "", filesNote = "", csvNote = ""
        for _ in 0..<repetitions {
            var loaded: ResultStore.Loaded?
            load.append(try time { loaded = try ResultStore.load(paths: [file]) })
            loadNote = "\(loaded!.records.count) records, \(loaded!.warnings.count) warnings"
            var output: ReportService.Output?
            model.append(time { output = ReportService.model(loaded!, catalog: catalog, options: options) })
            loaded = nil
            let m = output!.model
            modelNote = "\(m.tests.reduce(0) { $0 + $1.rows.count }) test rows, \(m.bursts.count) burst cells"
            var written: [(path: String, bytes: Int)] = []
            files.append(time {
                ReportFiles.write(m, markdownPath: "\(folder)/report.md") { text, path in
                    written.append((path, text.utf8.count))
                }
            })
            let markdown = written.first?.bytes ?? 0
            filesNote = "\(markdown) bytes of markdown, \(written.count - 1) SVGs of \(written.dropFirst().reduce(0) { $0 + $1.bytes }) bytes"
            var text = ""
            csv.append(time { text = CSVRenderer.render(m) })
            csvNote = "\(text.utf8.count) bytes (not in the total)"
        }
        let total = (0..<repetitions).map { i in
            Timing(wall: load[i].wall + model[i].wall + files[i].wall, cpu: load[i].cpu + model[i].cpu + files[i].cpu)
        }
        return Result(records: records, repetitions: repetitions, phases: [
            Phase(name: "write synthetic JSONL (setup, untimed)", runs: [write], note: "\(fileBytes / 1_000_000) MB"),
            Phase(name: "load results file", runs: load, note: loadNote),
            Phase(name: "statistics + report model", runs: model, note: modelNote),
            Phase(name: "render markdown + charts", runs: files, note: filesNote),
            Phase(name: "render CSV", runs: csv, note: csvNote),
        ], total: Phase(name: "total: load + model + markdown + charts", runs: total, note: ""))
    }

    /// Writes `count` synthetic records as JSONL to `path` a few megabytes at a time; returns the bytes written.
    static func writeSynthetic(count: Int, catalog: Catalog, to path: String) throws -> Int {
        guard FileManager.default.createFile(atPath: path, contents: nil),
              let handle = FileHandle(forWritingAtPath: path) else { throw FileError(path, "cannot create the file") }
        defer { try? handle.close() }
        var buffer = ""
        var bytes = 0
        func flush() throws {
            let data = Data(buffer.utf8)
            try handle.write(contentsOf: data)
            bytes += data.count
            buffer.removeAll(keepingCapacity: true)
        }
        try SyntheticRecords.generate(count: count, catalog: catalog) { r in
            buffer += try r.jsonLine()
            buffer += "\n"
            if buffer.utf8.count >= 4_000_000 { try flush() }
        }
        try flush()
        return bytes
    }

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
}
