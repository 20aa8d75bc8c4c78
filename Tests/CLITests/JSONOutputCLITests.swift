import Foundation
import Testing

/// `--json` on validate, plan, preflight, prices show and report: one JSON document on standard
/// output that a program can read, diagnostics on standard error, the usual exit status.
@Suite("--json outputs parse and say what the text says", .serialized)
struct JSONOutputCLITests {
    let fixtures = "Tests/CloudbenchCoreTests/Fixtures/inventories"

    func object(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
        let any = try JSONSerialization.jsonObject(with: Data(text.utf8))
        return try #require(any as? [String: Any], sourceLocation: sourceLocation)
    }

    @Test("validate --json: a file per inventory, errors with their positions; exit 2 and the problems on stderr")
    func validate() throws {
        let r = try CLI.run(["validate", "--json", "\(fixtures)/good.yaml", "\(fixtures)/bad/05-unknown-type.yaml"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("05-unknown-type.yaml:19:11: unknown instance type 'A22'"))
        let doc = try object(r.stdout)
        #expect(doc["schema"] as? String == "cloudbench-validate/1" && doc["ok"] as? Bool == false)
        let files = try #require(doc["files"] as? [[String: Any]])
        #expect(files.count == 2)
        #expect(files[0]["ok"] as? Bool == true && files[0]["pairs"] as? Int == 2 && files[0]["hosts"] as? Int == 4)
        let error = try #require((files[1]["errors"] as? [[String: Any]])?.first)
        #expect(error["line"] as? Int == 19 && error["column"] as? Int == 11)
        #expect((error["message"] as? String)?.hasPrefix("unknown instance type 'A22'") == true)
    }

    @Test("plan --json: the cells, the order and the estimate the text shows")
    func plan() throws {
        let r = try CLI.run(["plan", "--json", "\(fixtures)/good.yaml", "--parallel", "1"])
        #expect(r.status == 0 && r.stderr.isEmpty)
        let text = try CLI.run(["plan", "\(fixtures)/good.yaml", "--parallel", "1"]).stdout
        let doc = try object(r.stdout)
        #expect(doc["schema"] as? String == "cloudbench-plan/1" && doc["inventory"] as? String == "azure-vs-do")
        let cells = try #require(doc["cells"] as? Int)
        #expect(text.contains("= \(cells) cells"))
        let pairs = try #require(doc["pairs"] as? [[String: Any]])
        #expect(pairs.map { $0["name"] as? String } == ["azure-a2", "do-5"])
        #expect((pairs[0]["rounds"] as? [[String]])?.first?.first == "host/tcp_bw")
        #expect(pairs.reduce(0) { $0 + ($1["cells"] as? Int ?? 0) } == cells)
        #expect((doc["estimated_wall_seconds"] as? Double ?? 0) > 0)
    }

    @Test("prices show --json: every price with its amount as written, date, age and staleness")
    func prices() throws {
        let r = try CLI.run(["prices", "show", "--json", "--provider", "azure", "--catalog", "providers"])
        #expect(r.status == 0)
        let doc = try object(r.stdout)
        let prices = try #require(doc["prices"] as? [[String: Any]])
        #expect(!prices.isEmpty && prices.allSatisfy { $0["provider"] as? String == "azure" })
        let a2 = try #require(prices.first { $0["type"] as? String == "A2" && $0["amount"] != nil })
        #expect(a2["amount"] is String && a2["currency"] is String && a2["stale"] is Bool && a2["as_of"] is String)
    }

    @Test("preflight --json: a host nobody listens for is not ready, with its reason; exit 1")
    func preflight() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cb-json-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.copyItem(atPath: "\(CLI.root)/\(fixtures)/id_fixture", toPath: "\(dir)/id_fixture")
        try Data().write(to: URL(fileURLWithPath: "\(dir)/known_hosts"))
        // Port 1 on loopback: nothing listens, the connection is refused at once; no other address is touched.
        try """
            version: 1
            name: loopback-closed
            ssh: { user: nobody, identity: id_fixture, known_hosts: known_hosts, connect_timeout: 2s }
            pairs:
              - name: p
                provider: azure
                type: A2
                region: westeurope
                server: { address: "127.0.0.1:1" }
                client: { address: "127.0.0.2:1" }
            """.write(toFile: "\(dir)/inv.yaml", atomically: true, encoding: .utf8)
        let r = try CLI.run(["preflight", "--json", "\(dir)/inv.yaml"])
        #expect(r.status == 1)
        let doc = try object(r.stdout)
        #expect(doc["ready"] as? Int == 0 && doc["total"] as? Int == 2)
        let hosts = try #require(doc["hosts"] as? [[String: Any]])
        #expect(hosts.allSatisfy { $0["ready"] as? Bool == false && ($0["error"] as? String)?.contains("cannot connect") == true })
        #expect(hosts.allSatisfy { $0["arch"] == nil })
    }

    @Test("report --json: the figures of the markdown, to stdout or to --out")
    func report() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cb-json-report-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let csv = "\(CLI.root)/Tests/CloudbenchReportTests/Fixtures/reference-study-2015.csv"
        let imported = try CLI.run(["import", "reference-csv", csv, "--out", "\(dir)/ref.jsonl", "--region", "azure=westeurope",
                                    "--region", "aws=us-east-1", "--region", "digitalocean=ams3"])
        #expect(imported.status == 0)
        let r = try CLI.run(["report", "--json", "\(dir)/ref.jsonl", "--currency", "EUR"])
        #expect(r.status == 0)
        let doc = try object(r.stdout)
        #expect(doc["schema"] as? String == "cloudbench-report/1" && doc["currency"] as? String == "EUR")
        let hosts = try #require(doc["hosts"] as? [[String: Any]])
        // The study's Azure A2: 24.8 MB/s on the host network.
        let a2 = try #require(hosts.first { ($0["cell"] as? [String: Any])?["type"] as? String == "A2" })
        #expect(((a2["throughput"] as? [String: Any])?["figure"] as? [String: Any])?["mean"] as? Double == 24.8)
        #expect((doc["ranking"] as? [[String: Any]])?.first?["rank"] as? Int == 1)
        let tests = try #require(doc["tests"] as? [[String: Any]])
        #expect(tests.map { $0["test"] as? String } == ["tcp_bw", "tcp_lat"])
        let out = try CLI.run(["report", "--json", "\(dir)/ref.jsonl", "--out", "\(dir)/ref.json"])
        #expect(out.status == 0 && out.stdout.isEmpty)
        let written = try String(contentsOfFile: "\(dir)/ref.json", encoding: .utf8)
        let records = try #require(doc["records"] as? Int)
        #expect(try object(written)["records"] as? Int == records)
    }
}
