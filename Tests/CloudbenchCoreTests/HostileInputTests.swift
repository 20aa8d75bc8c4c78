import AgentLimits
import Foundation
import Testing
@testable import CloudbenchCore

/// Input users edit by hand and files other tools wrote, at their most hostile: each case here
/// once trapped, overflowed the stack or validated a run that could only fail.
@Suite("Hostile input")
struct HostileInputTests {
    let loader: InventoryLoader = {
        var l = InventoryLoader(catalog: try! Catalog.load(directory: RepoPaths.providers))
        l.checkFiles = false
        return l
    }()

    static func inventory(run: String = "duration: 10s", ssh: String = "user: ubuntu") -> String {
        """
        version: 1
        name: hostile
        ssh: { \(ssh) }
        run: { \(run) }
        pairs:
          - name: a
            provider: azure
            type: A2
            server: { address: 10.0.0.1 }
            client: { address: 10.0.0.2 }
        """
    }

    /// The diagnostics `validate` prints for `text`, or [] when it validates.
    func problems(_ text: String) -> [String] {
        do {
            _ = try loader.parse(try YAMLDocument(file: "h.yaml", text: text))
            return []
        } catch let e as InputErrors {
            return e.diagnostics.map(\.description)
        } catch {
            return ["\(error)"]
        }
    }

    @Test("durations too large for any clock saturate instead of trapping", arguments: [
        "99999999999999999s", "1000000000000000h", "99999999999999999999999999999999999999m", "1e400s",
    ])
    func hugeDurations(text: String) {
        if let d = DurationValue.parse(text) { #expect(d == DurationValue.limit) }
    }

    @Test("every duration of the inventory has a range, said with its position", arguments: [
        ("duration: 99999999999999999s", "user: ubuntu", "h.yaml:4:18: 'duration' must be from 0.001 to 3600 seconds (what the agent allows), not '99999999999999999s'"),
        ("duration: 2000000h", "user: ubuntu", "h.yaml:4:18: 'duration' must be from 0.001 to 3600 seconds (what the agent allows), not '2000000h'"),
        ("warmup: 1000000000000000h", "user: ubuntu", "h.yaml:4:16: 'warmup' must be from 0 to 600 seconds (what the agent allows), not '1000000000000000h'"),
        ("duration: 10s", "keepalive: 600h", "h.yaml:3:19: 'keepalive' must be from 1 to 3600 seconds, not '600h'"),
        ("duration: 10s", "connect_timeout: 99999999999999999s", "h.yaml:3:25: 'connect_timeout' must be from 0.1 to 600 seconds, not '99999999999999999s'"),
        ("duration: 0s", "user: ubuntu", "h.yaml:4:18: 'duration' must be from 0.001 to 3600 seconds (what the agent allows), not '0s'"),
    ])
    func durationRanges(run: String, ssh: String, expected: String) {
        #expect(problems(Self.inventory(run: run, ssh: ssh)) == [expected])
    }

    @Test("counts and sizes the agent would refuse are refused by validate", arguments: [
        ("streams: 129", "'streams' must be a whole number from 1 to 128, not '129'"),
        ("udp_rate: 100000000001", "'udp_rate' must be a whole number from 1000 to 100000000000"),
        ("http_size: 2000000000", "'http_size' must be a whole number from 1 to 1073741824"),
        ("repetitions: 99999999999999999999", "'repetitions' must be a whole number from 1 to 1000"),
    ])
    func countRanges(run: String, message: String) {
        let found = problems(Self.inventory(run: run))
        #expect(found.count == 1 && found[0].contains(message), "\(found)")
    }

    @Test("the inventory never asks the agent for what the agent refuses")
    func limitsInsideAgentLimits() {
        typealias L = InventoryLoader.Limits
        #expect(AgentLimits.duration.contains(L.duration.lowerBound) && AgentLimits.duration.contains(L.duration.upperBound))
        #expect(AgentLimits.warmup.contains(L.warmup.lowerBound) && AgentLimits.warmup.contains(L.warmup.upperBound))
        #expect(AgentLimits.streams.contains(L.streams.lowerBound) && AgentLimits.streams.contains(L.streams.upperBound))
        #expect(AgentLimits.messageSize.contains(L.messageSize.lowerBound) && AgentLimits.messageSize.contains(L.messageSize.upperBound))
        #expect(AgentLimits.rate.contains(Double(L.udpRate.lowerBound)) && AgentLimits.rate.contains(Double(L.udpRate.upperBound)))
        #expect(AgentLimits.size.contains(L.httpSize.lowerBound) && AgentLimits.size.contains(L.httpSize.upperBound))
        #expect(AgentLimits.count.contains(L.httpCount.lowerBound) && AgentLimits.count.contains(L.httpCount.upperBound))
        // compare runs the agent without --interval: one interval per second of the longest run fits.
        #expect(L.duration.upperBound / min(1, L.duration.upperBound) <= Double(AgentLimits.intervals))
    }

    // MARK: - nesting

    @Test("YAML nested 10,000 deep is one diagnostic with its position, not a stack overflow", arguments: [
        "version: 1\npairs: " + String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000),
        "version: 1\npairs: " + String(repeating: "{a: ", count: 10_000) + "1" + String(repeating: "}", count: 10_000),
        "version: 1\npairs:\n" + (1...3_000).map { String(repeating: " ", count: $0) + "-" }.joined(separator: "\n"),
        "version: 1\npairs:\n  " + String(repeating: "- ", count: 10_000) + "x",
    ])
    func deepYAML(text: String) {
        do {
            _ = try YAMLDocument(file: "d.yaml", text: text)
            Issue.record("accepted")
        } catch {
            #expect(error.location.line >= 2 && error.location.line <= 70, "\(error)")
            #expect(error.message == "the YAML nests deeper than 64 levels here; cloudbench's files need a handful")
        }
    }

    @Test("nesting in quotes, comments and block scalars is text, not structure")
    func nestingIgnoresText() {
        let deepText = String(repeating: "[", count: 200)
        let text = """
        a: "\(deepText)"
        b: '\(deepText) it''s'
        c: x # \(deepText)
        d: |
          \(deepText)
          - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - -
        e: [1, [2, [3]]]
        """
        #expect(YAMLNesting.tooDeep(text) == nil)
        let at = YAMLNesting.tooDeep("a: " + String(repeating: "[", count: 65))
        #expect(at?.line == 1 && at?.column == 67)
    }

    @Test("every YAML file in this repository is well within the nesting limit")
    func repositoryYAML() throws {
        let fm = FileManager.default
        var checked = 0
        for dir in ["providers", "inventories", "lab/profiles", "Tests/CloudbenchCoreTests/Fixtures/inventories"] {
            for name in try fm.contentsOfDirectory(atPath: "\(RepoPaths.root)/\(dir)") where name.hasSuffix(".yaml") {
                let text = try String(contentsOfFile: "\(RepoPaths.root)/\(dir)/\(name)", encoding: .utf8)
                #expect(YAMLNesting.tooDeep(text, limit: 12) == nil, "\(dir)/\(name)")
                checked += 1
            }
        }
        #expect(checked >= 8)
    }

    @Test("a catalog or a price file nested 10,000 deep is a diagnostic naming the file")
    func deepCatalog() throws {
        for file in ["azure.yaml", "prices/aws.yaml"] {
            let dir = NSTemporaryDirectory() + "catalog-\(getpid())-\(UUID().uuidString)"
            defer { try? FileManager.default.removeItem(atPath: dir) }
            try FileManager.default.createDirectory(atPath: "\(dir)/prices", withIntermediateDirectories: true)
            for name in ["aws.yaml", "azure.yaml", "digitalocean.yaml", "fx.yaml"] {
                try FileManager.default.copyItem(atPath: "\(RepoPaths.providers)/\(name)", toPath: "\(dir)/\(name)")
            }
            let deep = "provider: aws\nprices: " + String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
            try Data(deep.utf8).write(to: URL(fileURLWithPath: "\(dir)/\(file)"))
            do {
                _ = try Catalog.load(directory: dir)
                Issue.record("accepted \(file)")
            } catch let e as InputErrors {
                #expect(e.description == "\(dir)/\(file):2:72: the YAML nests deeper than 64 levels here; cloudbench's files need a handful")
            }
        }
    }

    @Test("a result line with a 100,000-deep detail is skipped with a reason; the rest loads")
    func deepResultLine() throws {
        let good = #"{"schema":"cloudbench-result/1","id":"r/1","run_id":"r","time":"2026-01-01T00:00:00Z","pair":"p","provider":"azure","type":"A2","region":"w","path":"host","test":"tcp_bw","repetition":1,"status":"ok","value":24.8,"unit":"MB/s"}"#
        let deep = String(good.dropLast()).replacingOccurrences(of: "r/1", with: "r/2")
            + #","detail":"# + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "}"
        let loaded = ResultStore.load(data: Data((deep + "\n" + good + "\n").utf8), name: "deep.jsonl")
        #expect(loaded.records.map(\.id) == ["r/1"])
        #expect(loaded.warnings.map(\.description)
                == ["deep.jsonl:1: skipped a line that is not a result record: JSON nested deeper than 64 levels (column 300)"])
        #expect(throws: JSONNesting.TooDeep.self) { try JSONValue.parse(String(repeating: "[", count: 100_000)) }
    }

    // MARK: - statistics

    @Test("statistics refuse values whose mean or variance is not finite")
    func nonFiniteStatistics() {
        #expect(Summary([1e308, -1e308]) == nil)
        #expect(Summary([1e308, 1e308]) == nil)
        #expect(Summary([.nan, 1]) == nil)
        #expect(Summary([.infinity]) == nil)
        #expect(Summary([24.8, 25.2])?.confidenceInterval != nil)
    }

    @Test("cells whose values overflow are counted unusable; no NaN reaches Student's t")
    func overflowingCells() throws {
        func record(_ path: String, _ rep: Int, _ value: Double) -> ResultRecord {
            ResultRecord(id: "r/\(path)/\(rep)", runID: "r", time: "2026-01-01T00:00:00Z", pair: "p", provider: "azure", type: "A2",
                         region: "w", path: path, test: "tcp_bw", repetition: rep, status: .ok, value: value, unit: "MB/s")
        }
        // A host cell with ordinary values: the penalty of vxlan against it used to make ν NaN.
        let records = [record("host", 1, 20), record("host", 2, 22), record("vxlan", 1, 1e308), record("vxlan", 2, 1.5e308),
                       record("udp", 1, 10), record("udp", 2, 12)]
        let cells = ResultStatistics.cells(records)
        let vxlan = try #require(cells[CellIdentity(record("vxlan", 1, 0))])
        #expect(vxlan.summary == nil && vxlan.unusable == 2)
        #expect(ResultStatistics.penalty(of: vxlan.key, in: cells) == nil)
        #expect(cells[CellIdentity(record("udp", 1, 0))]?.summary?.mean == 11)
        // Variances large enough to overflow when squared: the interval is left out, not NaN.
        let wide = try #require(Summary([1e153, -1e153, 3e153]))
        let narrow = try #require(Summary([1e150, 2e150]))
        let p = try #require(OverlayPenalty(path: wide, host: narrow))
        #expect(p.percent.isFinite)
        if let i = p.interval { #expect(i.low.isFinite && i.high.isFinite) }
    }
}
