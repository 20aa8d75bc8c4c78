import Foundation
import Testing
@testable import CloudbenchCore

@Suite("Result files: merge, duplicates, interrupted writes")
struct ResultStoreTests {
    /// A fresh folder removed when the test ends, on failure too.
    final class TempDir {
        let path: String
        init() throws {
            path = FileManager.default.temporaryDirectory
                .appendingPathComponent("cb-store-\(getpid())-\(UInt64.random(in: 0...UInt64.max))").path
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        }
        deinit { try? FileManager.default.removeItem(atPath: path) }
    }

    static func record(_ run: String, _ rep: Int, value: Double = 100, status: ResultRecord.Status = .ok) -> ResultRecord {
        ResultRecord(id: ResultRecord.makeID(runID: run, pair: "p", path: "host", test: "tcp_bw", repetition: rep), runID: run,
                     time: "2026-01-0\(rep)T00:00:00Z", pair: "p", provider: "azure", type: "A2", region: "westeurope",
                     placement: "same-region", path: "host", test: "tcp_bw", repetition: rep, status: status,
                     error: status == .failed ? "agent did not answer" : nil, value: status == .ok ? value : nil, unit: "MB/s",
                     price: Money(Decimal(string: "0.1207")!, "EUR"), source: "test",
                     detail: .object(["intervals": .array([.number(99.5), .number(100.5)]), "mtu": .number(1500)]))
    }

    @Test("a written record reads back equal, price exact")
    func roundTrip() throws {
        let dir = try TempDir()
        let path = "\(dir.path)/results/run-a.jsonl"
        let w = try ResultWriter(path: path)
        let written = [Self.record("run-a", 1), Self.record("run-a", 2, status: .failed)]
        for r in written { try w.append(r) }
        let loaded = try ResultStore.load(paths: [path])
        #expect(loaded.records == written && loaded.warnings.isEmpty && loaded.duplicates == 0)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.split(separator: "\n").count == 2 && text.hasSuffix("\n"))
        #expect(text.contains("\"price\":{\"amount\":\"0.1207\",\"currency\":\"EUR\"}"))
        #expect(text.contains("\"run_id\":\"run-a\""))
    }

    @Test("several files and folders merge; an id seen twice counts once")
    func merge() throws {
        let dir = try TempDir()
        let a = try ResultWriter(path: "\(dir.path)/a.jsonl")
        try a.append(Self.record("run-a", 1)); try a.append(Self.record("run-a", 2))
        let b = try ResultWriter(path: "\(dir.path)/b.jsonl")
        try b.append(Self.record("run-a", 2)); try b.append(Self.record("run-b", 1))
        try "not results".write(toFile: "\(dir.path)/notes.txt", atomically: true, encoding: .utf8)
        let byFolder = try ResultStore.load(paths: [dir.path])
        #expect(byFolder.records.map(\.id) == ["run-a/p/host/tcp_bw/1", "run-a/p/host/tcp_bw/2", "run-b/p/host/tcp_bw/1"])
        #expect(byFolder.duplicates == 1)
        let twice = try ResultStore.load(paths: ["\(dir.path)/a.jsonl", "\(dir.path)/a.jsonl"])
        #expect(twice.records.count == 2 && twice.duplicates == 2)
    }

    @Test("a truncated last line is reported and skipped, never fatal")
    func truncated() throws {
        let dir = try TempDir()
        let path = "\(dir.path)/run.jsonl"
        let w = try ResultWriter(path: path)
        try w.append(Self.record("run-a", 1))
        let partial = String(try Self.record("run-a", 2).jsonLine().prefix(57))
        let h = try #require(FileHandle(forWritingAtPath: path))
        h.seekToEndOfFile(); h.write(Data(partial.utf8)); h.closeFile()
        let loaded = try ResultStore.load(paths: [path])
        #expect(loaded.records.count == 1)
        #expect(loaded.warnings.map(\.description) == ["\(path):2: skipped a truncated last line (the run was interrupted while writing it)"])
        // A later run appending to the same file still works; the cut line stays a warning.
        let w2 = try ResultWriter(path: "\(dir.path)/run2.jsonl")
        try w2.append(Self.record("run-b", 1))
        #expect(try ResultStore.load(paths: [dir.path]).records.count == 2)
    }

    @Test("a bad line in the middle is named with its reason; other lines still load")
    func badLines() throws {
        let good = try Self.record("run-a", 1).jsonLine()
        let lines = [good, "{\"schema\":\"cloudbench-result/1\",\"id\":\"x\"}", "garbage", "",
                     good.replacingOccurrences(of: "cloudbench-result/1", with: "other/9").replacingOccurrences(of: "run-a/", with: "z/"),
                     try Self.record("run-a", 2).jsonLine()]
        let loaded = ResultStore.load(data: Data((lines.joined(separator: "\n") + "\n").utf8), name: "mem.jsonl")
        #expect(loaded.records.count == 2)
        #expect(loaded.warnings.map(\.description) == [
            "mem.jsonl:2: skipped a line that is not a result record: missing 'run_id'",
            "mem.jsonl:3: skipped a line that is not a result record: not valid JSON",
            "mem.jsonl:5: skipped: unknown schema 'other/9'",
        ])
    }

    @Test("decoding in parallel chunks gives exactly what reading line by line gives", arguments: [2, 3, 7, 50])
    func chunks(_ k: Int) throws {
        var lines: [String] = []
        for i in 1...40 {
            lines.append(try Self.record("run-\(i % 3)", i % 9 + 1, value: Double(i)).jsonLine())
            if i % 11 == 0 { lines.append("not json at \(i)") }
            if i % 13 == 0 { lines.append("") }
        }
        lines.append(String(try Self.record("run-z", 1).jsonLine().prefix(40)))
        let data = Data(lines.joined(separator: "\n").utf8)
        let one = ResultStore.load(data: data, name: "f", chunks: 1)
        let many = ResultStore.load(data: data, name: "f", chunks: k)
        #expect(one.records == many.records && one.warnings == many.warnings && one.duplicates == many.duplicates)
        #expect(one.duplicates > 0 && one.warnings.count == 4)
        #expect(one.warnings.last?.message.contains("truncated last line") == true)
    }

    @Test("a file read block by block gives exactly what reading it whole gives", arguments: [64, 300, 1000, 1 << 20])
    func blocks(_ blockSize: Int) throws {
        var lines: [String] = []
        for i in 1...40 {
            lines.append(try Self.record("run-\(i % 3)", i % 9 + 1, value: Double(i)).jsonLine())
            if i % 11 == 0 { lines.append("not json at \(i)") }
            if i % 13 == 0 { lines.append("") }
        }
        lines.append(String(try Self.record("run-z", 1).jsonLine().prefix(40)))
        let text = lines.joined(separator: "\n")
        let dir = try TempDir()
        let path = "\(dir.path)/run.jsonl"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let whole = ResultStore.load(data: Data(text.utf8), name: path, chunks: 1)
        var seen: Set<String> = []
        var streamed = ResultStore.Loaded(records: [], warnings: [], duplicates: 0)
        // Blocks shorter than a line (64, 300 bytes) grow until a line fits.
        try ResultStore.mergeFile(path, seen: &seen, into: &streamed, latest: RecordCheck.latest(now: Date()), blockSize: blockSize)
        #expect(streamed.records == whole.records && streamed.warnings == whole.warnings && streamed.duplicates == whole.duplicates)
        // Nine distinct ids (the repetition fixes the run), the rest duplicates; four skipped lines.
        #expect(whole.records.count == 9 && whole.duplicates > 0 && whole.warnings.count == 4)
        #expect(streamed.warnings.map(\.line) == whole.warnings.map(\.line))
        #expect(streamed.warnings.last?.message.contains("truncated last line") == true)
    }

    @Test("a missing path is one clear error")
    func missing() {
        #expect(throws: FileError.self) { try ResultStore.load(paths: ["/nonexistent/cloudbench/results.jsonl"]) }
    }
}
