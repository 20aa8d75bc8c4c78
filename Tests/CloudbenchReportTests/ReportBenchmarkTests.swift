import Foundation
import Testing
import CloudbenchCore
@testable import CloudbenchReport

@Suite("bench-report times report's own steps on a scratch file")
struct ReportBenchmarkTests {
    static let catalog = try! Catalog.load(directory: TestPaths.providers)

    @Test("every phase is timed each repetition, the file is read back whole, and the scratch file is gone afterwards")
    func run() throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("cb-bench-\(getpid())-\(UInt64.random(in: 0...UInt64.max))").path
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let result = try ReportBenchmark.run(records: 1200, repetitions: 2, catalog: Self.catalog, scratchDirectory: scratch)
        #expect(result.phases.map(\.name) == ["write synthetic JSONL (setup, untimed)", "load results file", "statistics + report model",
                                             "render markdown + charts", "render CSV"])
        #expect(result.phases.dropFirst().allSatisfy { $0.runs.count == 2 } && result.total.runs.count == 2)
        #expect(result.phases[1].note == "1200 records, 0 warnings")
        // Markdown plus the five charts (and a burst timeline per burst cell, none in synthetic data).
        #expect(result.phases[3].note.contains("5 SVGs"))
        for i in 0..<2 {
            let sum = result.phases[1].runs[i].wall + result.phases[2].runs[i].wall + result.phases[3].runs[i].wall
            #expect(abs(result.total.runs[i].wall - sum) < 1e-6 && sum > 0)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch).isEmpty)
    }

    @Test("the file it writes is the records it generates, read back equal")
    func file() throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("cb-bench-\(getpid())-\(UInt64.random(in: 0...UInt64.max))").path
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let path = "\(scratch)/s.jsonl"
        let bytes = try ReportBenchmark.writeSynthetic(count: 300, catalog: Self.catalog, to: path)
        let loaded = try ResultStore.load(paths: [path])
        #expect(loaded.records == SyntheticRecords.generate(count: 300, catalog: Self.catalog) && loaded.warnings.isEmpty)
        #expect(bytes == (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int))
    }
}
