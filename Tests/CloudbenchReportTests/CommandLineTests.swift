import CloudbenchProcess
import Foundation
import Testing

/// Runs the built `cloudbench` binary: `$CLOUDBENCH_BIN/cloudbench` (as `make test` sets it), else
/// `.build/debug/cloudbench`. Skipped when neither has been built.
enum CLI {
    static var binary: String? {
        if let bin = ProcessInfo.processInfo.environment["CLOUDBENCH_BIN"], !bin.isEmpty,
           FileManager.default.isExecutableFile(atPath: "\(bin)/cloudbench") { return "\(bin)/cloudbench" }
        let debug = "\(GoldenFile.root)/.build/debug/cloudbench"
        return FileManager.default.isExecutableFile(atPath: debug) ? debug : nil
    }

    struct Result { var status: Int32; var stdout: String; var stderr: String }

    /// Runs with a 60 s deadline (the one process runner stops an overrun child).
    static func run(_ args: [String]) throws -> Result {
        var env = ProcessInfo.processInfo.environment
        env["CLOUDBENCH_PROVIDERS"] = TestPaths.providers
        let r = try ProcessRunner.run([try #require(binary)] + args, environment: env, directory: GoldenFile.root, deadline: 60)
        return Result(status: r.status, stdout: r.stdout, stderr: r.stderr)
    }
}

@Suite("cloudbench import and report, end to end", .enabled(if: CLI.binary != nil), .serialized)
struct CommandLineTests {
    final class TempDir {
        let path: String
        init() throws {
            path = FileManager.default.temporaryDirectory.appendingPathComponent("cb-cli-\(getpid())-\(UInt64.random(in: 0...UInt64.max))").path
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        }
        deinit { try? FileManager.default.removeItem(atPath: path) }
    }

    @Test("import the study twice, report it: the golden markdown, byte for byte")
    func referenceRoundTrip() throws {
        let dir = try TempDir()
        let out = "\(dir.path)/results/reference-2015.jsonl"
        // As `make reference` imports it: each provider in the region the study used.
        let regions = ["--region", "azure=westeurope", "--region", "aws=us-east-1", "--region", "digitalocean=ams3"]
        let first = try CLI.run(["import", "reference-csv", TestPaths.referenceCSV, "--out", out] + regions)
        #expect(first.status == 0)
        #expect(first.stdout.contains("imported 66 records (tcp_bw, tcp_lat)"))
        let again = try CLI.run(["import", "reference-csv", TestPaths.referenceCSV, "--out", out] + regions)
        #expect(again.stdout.contains("imported 0 records") && again.stdout.contains("66 already there, skipped"))
        let report = try CLI.run(["report", "\(dir.path)/results", "--csv", "\(dir.path)/r.csv", "--svg", "\(dir.path)/r.svg"])
        #expect(report.status == 0 && report.stderr.isEmpty)
        let golden = try String(contentsOfFile: "\(GoldenFile.directory)/reference-2015.md", encoding: .utf8)
        #expect(report.stdout == golden)
        #expect(try String(contentsOfFile: "\(dir.path)/r.csv", encoding: .utf8)
                == String(contentsOfFile: "\(GoldenFile.directory)/reference-2015.csv", encoding: .utf8))
        #expect(try String(contentsOfFile: "\(dir.path)/r.svg", encoding: .utf8)
                == String(contentsOfFile: "\(GoldenFile.directory)/reference-2015.svg", encoding: .utf8))
    }

    @Test("an interrupted results file still reports, with a warning")
    func truncated() throws {
        let dir = try TempDir()
        let out = "\(dir.path)/run.jsonl"
        #expect(try CLI.run(["import", "reference-csv", TestPaths.referenceCSV, "--out", out]).status == 0)
        let h = try #require(FileHandle(forWritingAtPath: out))
        h.seekToEndOfFile(); h.write(Data(#"{"schema":"cloudbench-result/1","id":"cut"#.utf8)); h.closeFile()
        let r = try CLI.run(["report", out, "--out", "\(dir.path)/r.md"])
        #expect(r.status == 0)
        #expect(r.stderr == "warning: \(out):67: skipped a truncated last line (the run was interrupted while writing it)\n")
        let md = try String(contentsOfFile: "\(dir.path)/r.md", encoding: .utf8)
        #expect(md.contains("- ⚠ \(out):67: skipped a truncated last line"))
        #expect(md.contains("| 512mb | no region | same-region | 1 | 108 ± n/a[^single] |"))
    }

    @Test("--out writes the charts beside the markdown as NAME-KIND.svg and links them")
    func chartsBeside() throws {
        let dir = try TempDir()
        let out = "\(dir.path)/ref.jsonl"
        #expect(try CLI.run(["import", "reference-csv", TestPaths.referenceCSV, "--out", out]).status == 0)
        let r = try CLI.run(["report", out, "--out", "\(dir.path)/study.md"])
        #expect(r.status == 0 && r.stdout.isEmpty)
        let md = try String(contentsOfFile: "\(dir.path)/study.md", encoding: .utf8)
        // The study has throughput with latency on two paths and a price: ranking, throughput and penalty charts;
        // no RTT percentiles and no per-second series, so no latency or timeline chart.
        for kind in ["ranking", "throughput", "penalty"] {
            let svg = try String(contentsOfFile: "\(dir.path)/study-\(kind).svg", encoding: .utf8)
            #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
            #expect(md.contains("](study-\(kind).svg)"))
        }
        for kind in ["latency", "timeline"] {
            #expect(!FileManager.default.fileExists(atPath: "\(dir.path)/study-\(kind).svg"))
            #expect(!md.contains("study-\(kind).svg"))
        }
    }

    @Test("qperf and iperf3 output merge with other results; the same file twice counts once")
    func importTools() throws {
        let dir = try TempDir()
        let fixtures = "\(GoldenFile.root)/Tests/CloudbenchCoreTests/Fixtures/import"
        let out = "\(dir.path)/old.jsonl"
        let common = ["--pair", "do-old", "--provider", "digitalocean", "--type", "512mb", "--placement", "same-region",
                      "--price", "0.007 USD/h", "--time", "2015-07-01", "--out", out]
        let q = try CLI.run(["import", "qperf", "\(fixtures)/qperf-units.txt"] + common)
        #expect(q.status == 0 && q.stdout.contains("imported 8 records"))
        let q2 = try CLI.run(["import", "qperf", "\(fixtures)/qperf-units.txt"] + common)
        #expect(q2.stdout.contains("8 already there, skipped"))
        let i = try CLI.run(["import", "iperf3", "\(fixtures)/iperf3-refused.json"] + common)
        #expect(i.status == 0 && i.stdout.contains("imported 1 record (tcp_bw)") && i.stdout.contains("1 failed"))
        try FileManager.default.copyItem(atPath: out, toPath: "\(dir.path)/copy.jsonl")
        let ref = "\(dir.path)/ref.jsonl"
        #expect(try CLI.run(["import", "reference-csv", TestPaths.referenceCSV, "--out", ref]).status == 0)
        let r = try CLI.run(["report", out, "\(dir.path)/copy.jsonl", ref])
        #expect(r.status == 0)
        // 512mb host: qperf's 0.59, 24.8, 0.987654, 187.5 MB/s (message size not recorded) and iperf3's failure are one
        // cell: x̄ = 53.5, s = 90.1, ± 3.182·90.1/√4 = 143 reaches below 0, so it is cut: 0 to 197. The study's 108 MB/s
        // (64 KiB messages, a known knob) is never averaged with them: its own row.
        #expect(r.stdout.contains("| 512mb | no region | same-region | 1 stream, client → server | r1 r2 r3 | 4 | 53.5 (0 to 197)[^clamped] (1 failed[^failed]) | 12.9 | 168 % |"))
        #expect(r.stdout.contains("| 512mb | no region | same-region | 1 stream, client → server, 64 KiB messages | r1 r3 | 1 | 108 ± n/a[^single] |"))
        #expect(r.stdout.contains("9 duplicates counted once"))
    }

    @Test("bad input: one line on standard error, exit status 2")
    func badInput() throws {
        let dir = try TempDir()
        let ref = "\(dir.path)/ref.jsonl"
        #expect(try CLI.run(["import", "reference-csv", TestPaths.referenceCSV, "--out", ref]).status == 0)
        let cur = try CLI.run(["report", ref, "--currency", "USDD"])
        #expect(cur.status == 2)
        #expect(cur.stderr == "error: --currency: unknown currency 'USDD' (did you mean 'USD'?); providers/fx.yaml has rates for EUR, GBP, USD\n")
        let missing = try CLI.run(["report", "\(dir.path)/nope.jsonl"])
        #expect(missing.status == 2 && missing.stderr == "error: \(dir.path)/nope.jsonl: no such file\n")
        let price = try CLI.run(["import", "qperf", ref, "--pair", "p", "--provider", "azure", "--type", "A2",
                                 "--price", "cheap", "--out", "\(dir.path)/x.jsonl"])
        #expect(price.status == 2 && price.stderr.hasPrefix("error: --price: 'cheap' is not a price"))
        let notQperf = try CLI.run(["import", "qperf", ref, "--pair", "p", "--provider", "azure", "--type", "A2",
                                    "--out", "\(dir.path)/x.jsonl"])
        #expect(notQperf.status == 2 && notQperf.stderr.contains("no qperf tcp_bw or tcp_lat results found"))
        #expect(!FileManager.default.fileExists(atPath: "\(dir.path)/x.jsonl"))
    }

    @Test("records from outside are checked: refused on import, skipped with FILE:LINE on report")
    func checkedRecords() throws {
        let dir = try TempDir()
        let fixtures = "\(GoldenFile.root)/Tests/CloudbenchCoreTests/Fixtures/import"
        let old = try CLI.run(["import", "qperf", "\(fixtures)/qperf-loopback.txt", "--pair", "p", "--provider", "azure",
                               "--type", "A2", "--time", "1999-06-01", "--out", "\(dir.path)/x.jsonl"])
        #expect(old.status == 2 && old.stderr.contains("time 1999-06-01T00:00:00Z is before 2000"), "\(old.stderr)")
        #expect(old.stderr.contains("nothing imported"))
        #expect(!FileManager.default.fileExists(atPath: "\(dir.path)/x.jsonl"))
        // A results file with a negative value and a far-future time among good lines: the rest still renders.
        let ref = "\(dir.path)/ref.jsonl"
        #expect(try CLI.run(["import", "reference-csv", TestPaths.referenceCSV, "--out", ref]).status == 0)
        var lines = try String(contentsOfFile: ref, encoding: .utf8).split(separator: "\n").map(String.init)
        lines[0] = lines[0].replacingOccurrences(of: #""value":0.59"#, with: #""value":-0.59"#)
        lines[1] = lines[1].replacingOccurrences(of: "2015-06-01T00:00:00Z", with: "2999-01-01T00:00:00Z")
        try (lines.joined(separator: "\n") + "\n").write(toFile: ref, atomically: true, encoding: .utf8)
        let r = try CLI.run(["report", ref])
        #expect(r.status == 0)
        #expect(r.stderr.contains("\(ref):1: skipped: value -0.59 is negative"), "\(r.stderr)")
        #expect(r.stderr.contains("\(ref):2: skipped: time 2999-01-01T00:00:00Z is more than a day ahead"), "\(r.stderr)")
        #expect(r.stdout.contains("From 64 records"))
    }
}
