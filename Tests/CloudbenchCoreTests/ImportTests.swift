import Foundation
import Testing
@testable import CloudbenchCore

@Suite("Import of qperf, iperf3 and the reference study's CSV")
struct ImportTests {
    static let dir = "\(RepoPaths.fixtures)/import"
    static func text(_ name: String) throws -> String { try String(contentsOfFile: "\(dir)/\(name)", encoding: .utf8) }
    static let context = ImportContext(pair: "azure-a2", provider: "azure", type: "A2", region: "westeurope",
                                       path: "host", price: Money(Decimal(string: "0.1207")!, "EUR"))

    @Test("qperf's own loopback output, plain and verbose")
    func qperfLoopback() throws {
        // Recorded from `qperf 127.0.0.1 tcp_bw tcp_lat` on this machine: bw = 1.62 GB/sec, latency = 33.8 us.
        let m = try QperfOutput.parse(try Self.text("qperf-loopback.txt"), file: "qperf-loopback.txt")
        #expect(m.map(\.test) == ["tcp_bw", "tcp_lat"])
        #expect(m[0].value == 1620 && m[0].unit == "MB/s" && m[0].status == .ok)
        #expect(m[1].value == 33.8 && m[1].unit == "us")
        let v = try QperfOutput.parse(try Self.text("qperf-loopback-verbose.txt"), file: "v.txt")
        #expect(v.map(\.value) == [1770, 39.5])
        #expect(v[0].detail["msg_rate"]?.string == "27.1 K/sec")
    }

    @Test("every unit qperf prints converts to MB/s and µs", arguments: [
        (0, 0.59), (1, 289.0), (2, 24.8), (3, 1200.0), (4, 0.987654), (5, 0.95), (6, 187.5), (7, 400.0),
    ])
    func qperfUnits(index: Int, expected: Double) throws {
        let m = try QperfOutput.parse(try Self.text("qperf-units.txt"), file: "u.txt")
        #expect(m.count == 8)
        #expect(abs(m[index].value! - expected) < 1e-9 * expected, "\(m[index])")
    }

    @Test("qperf: repeated blocks are repetitions; a failed connection is a failed record")
    func qperfRepetitionsAndFailure() throws {
        let text = try Self.text("qperf-units.txt")
        let recs = Importer.records(try QperfOutput.parse(text, file: "u.txt"), context: Self.context,
                                    content: Array(text.utf8), source: "qperf", fallbackTime: "2026-01-01T00:00:00Z")
        #expect(recs.filter { $0.test == "tcp_bw" }.map(\.repetition) == [1, 2, 3, 4])
        #expect(Set(recs.map(\.id)).count == recs.count)
        let failed = try QperfOutput.parse(try Self.text("qperf-refused.txt"), file: "r.txt")
        #expect(failed.count == 1 && failed[0].status == .failed && failed[0].value == nil)
        #expect(failed[0].error == "127.0.0.1: failed to connect")
    }

    @Test("qperf: an unknown unit is reported at its line and column; no results is an error")
    func qperfErrors() throws {
        let e = try #require(throws: InputErrors.self) {
            try QperfOutput.parse(try Self.text("qperf-badunit.txt"), file: "bad.txt")
        }
        #expect(e.description.hasPrefix("bad.txt:2:"))
        #expect(e.description.contains("unknown bandwidth unit 'parsecs/sec'"))
        let f = try #require(throws: FileError.self) { try QperfOutput.parse("hello\n", file: "x.txt") }
        #expect(f.description.contains("no qperf tcp_bw or tcp_lat results"))
    }

    @Test("iperf3 --json: the receiver's bytes over its seconds, the start time")
    func iperf3() throws {
        // Recorded from `iperf3 -c 127.0.0.1 -J -t 2`: sum_received 4988600320 bytes in 2.00069 s.
        let m = try Iperf3Output.parse(try Self.text("iperf3-loopback.json"), file: "i.json")
        // The knobs iperf3 states go where reports read them: one stream of 128 KiB writes, client to server.
        #expect(TestSetup.of(test: "tcp_bw", detail: m.first?.detail)
                == TestSetup(direction: "client_to_server", streams: 1, messageSize: 131072))
        #expect(m.count == 1)
        #expect(abs(m[0].value! - 4988600320 / 2.00069 / 1e6) < 1e-9)
        #expect(m[0].test == "tcp_bw" && m[0].time == "2026-11-27T13:30:47Z")
        #expect(m[0].detail["sum_received"]?["bytes"]?.double == 4988600320)
        let refused = try Iperf3Output.parse(try Self.text("iperf3-refused.json"), file: "r.json")
        #expect(refused.count == 1 && refused[0].status == .failed)
        #expect(refused[0].error == "iperf3: unable to connect to server: Connection refused")
    }

    @Test("iperf3: several runs in one file, cut-off output is an error")
    func iperf3Many() throws {
        let one = try Self.text("iperf3-loopback.json")
        #expect(try Iperf3Output.parse(one + one + (try Self.text("iperf3-refused.json")), file: "m.json").map(\.status) == [.ok, .ok, .failed])
        let e = try #require(throws: FileError.self) { try Iperf3Output.parse(String(one.prefix(500)), file: "cut.json") }
        #expect(e.description.contains("cut off"))
    }

    @Test("importing the same file twice gives the same ids, so loading counts it once")
    func deterministicIDs() throws {
        let text = try Self.text("qperf-loopback.txt")
        let m = try QperfOutput.parse(text, file: "q")
        let a = Importer.records(m, context: Self.context, content: Array(text.utf8), source: "qperf", fallbackTime: "2026-01-01T00:00:00Z")
        let b = Importer.records(m, context: Self.context, content: Array(text.utf8), source: "qperf", fallbackTime: "2026-02-02T00:00:00Z")
        #expect(a.map(\.id) == b.map(\.id))
        #expect(a[0].id.hasPrefix("import-") && a[0].runID.hasPrefix("import-"))
        #expect(a[0].price == Money(Decimal(string: "0.1207")!, "EUR"))
        let other = try Self.text("qperf-loopback-verbose.txt")
        var ctx = Self.context
        ctx.runID = "old-2019"
        let c = Importer.records(try QperfOutput.parse(other, file: "v"), context: ctx, content: Array(other.utf8), source: "qperf", fallbackTime: "x")
        let d = Importer.records(m, context: ctx, content: Array(text.utf8), source: "qperf", fallbackTime: "x")
        #expect(Set(c.map(\.id)).isDisjoint(with: d.map(\.id)), "two files under one run id must not collide")

        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("cb-import-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: tmp) }
        let out = tmp.appendingPathComponent("x.jsonl").path
        let w = try ResultWriter(path: out)
        for r in a + b { try w.append(r) }
        let loaded = try ResultStore.load(paths: [out])
        #expect(loaded.records.count == 2 && loaded.duplicates == 2)
        #expect(loaded.records == a)
    }

    @Test("the reference study's CSV: one bandwidth and one latency record per row, in MB/s")
    func referenceCSV() throws {
        let path = FileManager.default.fileExists(atPath: "\(RepoPaths.reference)/reference-study-2015.csv")
            ? "\(RepoPaths.reference)/reference-study-2015.csv"
            : "\(RepoPaths.root)/Tests/CloudbenchReportTests/Fixtures/reference-study-2015.csv"
        let recs = try ReferenceCSV.parse(try String(contentsOfFile: path, encoding: .utf8), file: path)
        #expect(recs.count == 66)
        let a0 = try #require(recs.first { $0.type == "A0" && $0.path == "host" && $0.test == "tcp_bw" })
        #expect(a0.value == 0.59 && a0.unit == "MB/s")
        #expect(a0.price == Money(Decimal(string: "0.0135")!, "EUR"))
        #expect(a0.id == "reference-2015/azure-A0-same-region/host/tcp_bw/1")
        #expect(a0.time == "2015-06-01T00:00:00Z" && a0.runID == "reference-2015")
        let lat = try #require(recs.first { $0.type == "m4.large" && $0.placement == "cross-az" && $0.test == "tcp_lat" })
        #expect(lat.value == 360 && lat.price == nil)
        #expect(Set(recs.map(\.id)).count == recs.count)
    }

    @Test("reference CSV errors carry line and column")
    func referenceErrors() throws {
        let text = """
        provider,instance_type,path,placement,throughput,throughput_unit,latency_us,price_per_hour,currency
        azure,A2,host,same-region,24.8,MB/s,426,0.1207,EUR
        azure,A3,host,same-region,48,MBs,465,0.2413,EUR
        azure,A4,host,same-region,310,MB/s,fast,,
        """
        let e = try #require(throws: InputErrors.self) { try ReferenceCSV.parse(text, file: "r.csv") }
        #expect(e.diagnostics.map(\.description) == [
            "r.csv:3:30: unknown throughput unit 'MBs'; did you mean 'MB/s'?",
            "r.csv:4:36: latency_us must be a number, not 'fast'",
        ])
        let h = try #require(throws: InputErrors.self) { try ReferenceCSV.parse("provider,type\nx,y\n", file: "h.csv") }
        #expect(h.description.hasPrefix("h.csv:1:1: missing columns instance_type, path"))
    }

    @Test("CSV fields with quotes and commas")
    func csv() {
        let rows = CSVTable.parse("a,\"b,c\",\"say \"\"hi\"\"\"\r\n\n1,2,3")
        #expect(rows.map(\.fields) == [["a", "b,c", "say \"hi\""], ["1", "2", "3"]])
        #expect(rows.map(\.line) == [1, 3])
        #expect(CSVTable.escape("a,b") == "\"a,b\"" && CSVTable.escape("plain") == "plain")
    }
}
