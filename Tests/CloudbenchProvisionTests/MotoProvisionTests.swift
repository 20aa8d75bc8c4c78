import CloudbenchCore
import Foundation
import NetNS
import XCTest

/// `provision`, `destroy` and `sweep` against moto's EC2 in server mode.
///
/// moto hands out made-up public and private addresses (54.x, 10.x). Nothing may connect to
/// them, so moto and cloudbench both run inside a network namespace with loopback only and no
/// route at all: a connection to any made-up address fails at once with "network unreachable".
final class MotoProvisionTests: XCTestCase {
    var ns: Namespace?
    var moto: ChildProcess?
    var dir = ""
    let port = 5000 + Int(getpid() % 1000)
    static let sshFrom = "198.51.100.7/32"

    static var motoServer: String { "\(Repo.root)/.venv-moto/bin/moto_server" }
    static var python: String { "\(Repo.root)/.venv-moto/bin/python3" }
    static var binDir: String {
        if let b = ProcessInfo.processInfo.environment["CLOUDBENCH_BIN"], !b.isEmpty { return b }
        return "\(Repo.root)/.build/debug"
    }

    func start(validateTypes: Bool = false) throws {
        guard getuid() == 0 else { throw XCTSkip("network namespaces need root") }
        guard FileManager.default.isExecutableFile(atPath: Self.motoServer) else {
            XCTFail("moto is not installed: run `make setup` (it installs moto[server] into .venv-moto/)")
            throw XCTSkip("no moto")
        }
        let namespace = try Namespace.create(prefix: "cbmoto")
        ns = namespace
        XCTAssertFalse(namespace.hasDefaultRoute())
        dir = NSTemporaryDirectory() + "cb-moto-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: "\(dir)/moto.log", contents: nil)
        let log = FileHandle(forWritingAtPath: "\(dir)/moto.log")
        moto = try namespace.spawn(["env", "MOTO_EC2_ENABLE_INSTANCE_TYPE_VALIDATION=\(validateTypes)",
                                    Self.motoServer, "-H", "127.0.0.1", "-p", "\(port)"], stdout: log, stderr: log)
        _ = try namespace.run([Self.python, "\(Repo.fixtures)/moto_state.py", "\(port)", "wait"])
    }

    override func tearDown() {
        if let moto, moto.isRunning {
            kill(moto.processIdentifier, SIGTERM)
            moto.waitUntilExit()
        }
        ns?.delete()
        if !dir.isEmpty { try? FileManager.default.removeItem(atPath: dir) }
        super.tearDown()
    }

    struct Result { var status: Int32; var stdout: String; var stderr: String }

    /// Runs `cloudbench ARGS` inside the namespace from the repository root.
    func cloudbench(_ args: [String], catalog: String? = nil) throws -> Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        if !FileManager.default.fileExists(atPath: "/usr/sbin/ip") { p.executableURL = URL(fileURLWithPath: "/sbin/ip") }
        p.arguments = ["netns", "exec", ns!.name, "\(Self.binDir)/cloudbench"] + args
            + (catalog.map { ["--providers", $0] } ?? [])
        p.currentDirectoryURL = URL(fileURLWithPath: Repo.root)
        var env = ProcessInfo.processInfo.environment
        env["AWS_ACCESS_KEY_ID"] = "testing"
        env["AWS_SECRET_ACCESS_KEY"] = "testing"
        env["AWS_SHARED_CREDENTIALS_FILE"] = "/nonexistent"
        env["CLOUDBENCH_AWS_EC2_URL"] = "http://127.0.0.1:\(port)/"
        p.environment = env
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let outPath = "\(dir)/out-\(UUID().uuidString)", errPath = outPath + ".err"
        FileManager.default.createFile(atPath: outPath, contents: nil)
        FileManager.default.createFile(atPath: errPath, contents: nil)
        p.standardOutput = FileHandle(forWritingAtPath: outPath)
        p.standardError = FileHandle(forWritingAtPath: errPath)
        try p.run()
        p.waitUntilExit()
        let r = Result(status: p.terminationStatus, stdout: (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
                       stderr: (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "")
        return r
    }

    func state(_ run: String) throws -> [String: Any] {
        let text = try ns!.run([Self.python, "\(Repo.fixtures)/moto_state.py", "\(port)", "state", run])
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    func fleet(_ entries: String, repetitions: Int = 1) throws -> String {
        let path = "\(dir)/moto-fleet.yaml"
        try """
        version: 1
        name: moto
        run: { tests: [tcp_bw, tcp_lat], duration: 2s, warmup: 0s, repetitions: \(repetitions) }
        pairs:
        \(entries)
        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static let twoPairs = """
          - { name: same, provider: aws, type: m5.large, region: us-east-1, zones: [us-east-1a], image: ami-12c6146b }
          - { name: cross, provider: aws, type: m5.large, region: us-east-1, zones: [us-east-1a, us-east-1b], image: ami-12c6146b }
        """

    func provisionArgs(_ fleet: String, _ extra: [String] = []) -> [String] {
        ["provision", fleet, "--ssh-from", Self.sshFrom, "--runs-dir", "\(dir)/runs", "--inventories-dir", "\(dir)/inventories"] + extra
    }

    static func runID(_ out: String) -> String? {
        out.split(separator: "\n").first { $0.hasPrefix("run: ") }.map { String($0.dropFirst(5)) }
    }

    // MARK: -

    func testTwoPairsAreCreatedTaggedAndNarrowThenDestroyedCompletely() throws {
        try start()
        let started = Date()
        let r = try cloudbench(provisionArgs(try fleet(Self.twoPairs), ["--no-ssh-wait-test-only"]))
        let provisionSeconds = Date().timeIntervalSince(started)
        XCTAssertEqual(r.status, 0, r.stderr)
        let run = try XCTUnwrap(Self.runID(r.stdout), r.stdout)
        XCTAssertTrue(r.stdout.contains("estimated cost of moto (2 pairs):"), r.stdout)

        let s = try state(run)
        let instances = try XCTUnwrap(s["instances"] as? [[String: Any]])
        XCTAssertEqual(instances.count, 4)
        XCTAssertEqual(Set(instances.map { $0["state"] as? String }), ["running"])
        XCTAssertEqual(instances.compactMap { $0["zone"] as? String }.sorted(), ["us-east-1a", "us-east-1a", "us-east-1a", "us-east-1b"])
        XCTAssertEqual(Set(instances.map { $0["key"] as? String }), ["cloudbench-\(run)"])
        XCTAssertEqual(Set(instances.map { $0["imds_tokens"] as? String }), ["required"])
        let groups = try XCTUnwrap(s["security_groups"] as? [[String: Any]])
        XCTAssertEqual(groups.count, 2, "one security group per pair")
        for g in groups {
            let id = try XCTUnwrap(g["id"] as? String)
            // Each pair's two instances, and only they, are in its group.
            XCTAssertEqual(instances.filter { ($0["groups"] as? [String]) == [id] }.count, 2)
            let ingress = try XCTUnwrap(g["ingress"] as? [[String: Any]])
            XCTAssertEqual(ingress.count, 2, "\(ingress)")
            let ssh = try XCTUnwrap(ingress.first { $0["protocol"] as? String == "tcp" })
            XCTAssertEqual(ssh["from"] as? Int, 22)
            XCTAssertEqual(ssh["to"] as? Int, 22)
            XCTAssertEqual(ssh["cidrs"] as? [String], [Self.sshFrom])
            XCTAssertEqual(ssh["groups"] as? [String], [])
            let pair = try XCTUnwrap(ingress.first { $0["protocol"] as? String == "-1" })
            XCTAssertEqual(pair["cidrs"] as? [String], [], "test traffic from no address range, only from the pair")
            XCTAssertEqual(pair["groups"] as? [String], [id])
        }
        let keys = try XCTUnwrap(s["key_pairs"] as? [[String: Any]])
        XCTAssertEqual(keys.count, 1)
        let volumes = try XCTUnwrap(s["volumes"] as? [[String: Any]])
        XCTAssertEqual(volumes.count, 4)
        for tagged in instances + groups + keys + volumes {
            let tags = try XCTUnwrap(tagged["tags"] as? [String: String])
            XCTAssertEqual(tags["cloudbench-run"], run)
            XCTAssertEqual(tags["cloudbench-managed"], "true")
            XCTAssertNotNil(tags["cloudbench-created"].flatMap { ISO8601DateFormatter().date(from: $0) })
        }

        // The run's key: private, 0600; the inventory is a normal one that validates.
        let attrs = try FileManager.default.attributesOfItem(atPath: "\(dir)/runs/\(run)/id_ed25519")
        XCTAssertEqual((attrs[.posixPermissions] as? NSNumber)?.intValue, 0o600)
        let inventory = "\(dir)/inventories/moto-\(run).yaml"
        let v = try cloudbench(["validate", inventory])
        XCTAssertEqual(v.status, 0, v.stderr)
        XCTAssertTrue(v.stdout.contains("ok (2 pairs, 4 hosts)"), v.stdout)
        XCTAssertTrue(r.stderr.contains("printed no host key on its console"), r.stderr)
        let record = try String(contentsOfFile: "\(dir)/runs/\(run)/provision.json", encoding: .utf8)
        XCTAssertFalse(record.contains("testing"), "no credential in the record")

        let d0 = Date()
        let d = try cloudbench(["destroy", run, "--runs-dir", "\(dir)/runs"])
        let destroySeconds = Date().timeIntervalSince(d0)
        XCTAssertEqual(d.status, 0, d.stderr)
        XCTAssertTrue(d.stdout.contains("\(run): 7 resources removed"), d.stdout)
        let after = try state(run)
        XCTAssertEqual(Set((after["instances"] as? [[String: Any]] ?? []).map { $0["state"] as? String }), ["terminated"])
        XCTAssertEqual((after["security_groups"] as? [Any])?.count, 0)
        XCTAssertEqual((after["key_pairs"] as? [Any])?.count, 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(dir)/runs/\(run)/id_ed25519"))
        // Again: nothing left, still success.
        let again = try cloudbench(["destroy", run, "--runs-dir", "\(dir)/runs"])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stdout.contains("nothing left to remove"), again.stdout)

        let journal = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(dir)/runs/\(run)/provision.json"))) as? [String: Any]
        let calls = (journal?["provision_api_calls"] as? [String: Int] ?? [:]).merging(journal?["destroy_api_calls"] as? [String: Int] ?? [:], uniquingKeysWith: +)
        XCTAssertEqual(calls["RunInstances"], 4)
        XCTAssertEqual(calls["TerminateInstances"], 1)
        XCTAssertNotNil(journal?["instance_seconds"] as? Double)
        print("moto: provision of 2 pairs \(String(format: "%.2f", provisionSeconds)) s, destroy \(String(format: "%.2f", destroySeconds)) s; API calls (provision + destroy): \(calls.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))")
    }

    func testSSHWaitInANamespaceWithoutRouteFailsAtOnceAndLeavesNothing() throws {
        try start()
        let started = Date()
        let r = try cloudbench(provisionArgs(try fleet(Self.twoPairs)))
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains(":22 cannot be reached") && r.stderr.contains("no route to the instance"), r.stderr)
        XCTAssertLessThan(Date().timeIntervalSince(started), 60, "no route is not waited for")
        let run = try XCTUnwrap(r.stderr.split(separator: " ").dropFirst().first.map(String.init).map { $0.hasSuffix(":") ? String($0.dropLast()) : $0 })
        let s = try state(run)
        XCTAssertEqual((s["instances"] as? [[String: Any]])?.count, 4)
        XCTAssertEqual(Set((s["instances"] as? [[String: Any]] ?? []).map { $0["state"] as? String }), ["terminated"])
        XCTAssertEqual((s["security_groups"] as? [Any])?.count, 0)
        XCTAssertEqual((s["key_pairs"] as? [Any])?.count, 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(dir)/inventories"), "no inventory for a failed run")
    }

    func testCreateFailingHalfwayLeavesNothing() throws {
        try start(validateTypes: true)
        // A catalog with one type moto (like EC2) does not know, so the fleet validates and is priced.
        let catalog = "\(dir)/providers"
        try FileManager.default.copyItem(atPath: Repo.providers, toPath: catalog)
        let aws = try String(contentsOfFile: "\(catalog)/aws.yaml", encoding: .utf8) + """

          m5.bogus:
            vcpus: 2
            memory_gib: 8
            network: "Up to 10 Gigabit"
            price: { amount: "0.096", currency: USD, region: us-east-1, status: quoted, source: test, as_of: "2025-06-01" }

        """
        try aws.write(toFile: "\(catalog)/aws.yaml", atomically: true, encoding: .utf8)
        let f = try fleet("""
              - { name: good, provider: aws, type: m5.large, region: us-east-1, image: ami-12c6146b }
              - { name: bad, provider: aws, type: m5.bogus, region: us-east-1, image: ami-12c6146b }
            """)
        let r = try cloudbench(provisionArgs(f, ["--no-ssh-wait-test-only"]), catalog: catalog)
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("EC2 RunInstances failed: InvalidInstanceType"), r.stderr)
        let run = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: "\(dir)/runs").first)
        let s = try state(run)
        let instances = s["instances"] as? [[String: Any]] ?? []
        XCTAssertEqual(instances.count, 2, "the first pair was created before the second failed")
        XCTAssertEqual(Set(instances.map { $0["state"] as? String }), ["terminated"])
        XCTAssertEqual((s["security_groups"] as? [Any])?.count, 0)
        XCTAssertEqual((s["key_pairs"] as? [Any])?.count, 0)
    }

    func testSweepFindsALeftoverAndLeavesYoungerRunsWithOlderThan() throws {
        try start()
        _ = try ns!.run([Self.python, "\(Repo.fixtures)/moto_state.py", "\(port)", "leftover", "old-run", "2020-01-01T00:00:00Z"])
        let now = ISO8601DateFormatter().string(from: Date())
        _ = try ns!.run([Self.python, "\(Repo.fixtures)/moto_state.py", "\(port)", "leftover", "young-run", now])
        let r = try cloudbench(["sweep", "--region", "us-east-1", "--older-than", "6h", "--runs-dir", "\(dir)/runs"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("run old-run: 2 resources removed"), r.stdout)
        XCTAssertTrue(r.stdout.contains("1 younger runs left alone"), r.stdout)
        XCTAssertEqual((try state("old-run")["security_groups"] as? [Any])?.count, 0)
        XCTAssertEqual((try state("young-run")["security_groups"] as? [Any])?.count, 1)
        let all = try cloudbench(["sweep", "--region", "us-east-1", "--runs-dir", "\(dir)/runs"])
        XCTAssertTrue(all.stdout.contains("run young-run: 2 resources removed"), all.stdout)
        let again = try cloudbench(["sweep", "--region", "us-east-1", "--runs-dir", "\(dir)/runs"])
        XCTAssertTrue(again.stdout.contains("nothing to sweep in us-east-1"), again.stdout)
    }

    func testCompareFleetDestroysAfterAFailedCompare() throws {
        try start()
        // compare cannot reach moto's made-up addresses (no route in the namespace): every host
        // fails preflight, compare exits 1, and the fleet is destroyed all the same.
        let r = try cloudbench(["compare", "--fleet", try fleet(Self.twoPairs), "--ssh-from", Self.sshFrom,
                                "--runs-dir", "\(dir)/runs", "--inventories-dir", "\(dir)/inventories",
                                "--results-dir", "\(dir)/results", "--report", "\(dir)/report.md", "--no-ssh-wait-test-only"])
        XCTAssertEqual(r.status, 1, r.stderr)
        let run = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: "\(dir)/runs").first)
        XCTAssertTrue(r.stderr.contains("run \(run): comparing"), r.stderr)
        XCTAssertTrue(r.stderr.contains("run \(run): 7 resources removed"), r.stderr)
        let s = try state(run)
        XCTAssertEqual(Set((s["instances"] as? [[String: Any]] ?? []).map { $0["state"] as? String }), ["terminated"])
        XCTAssertEqual((s["security_groups"] as? [Any])?.count, 0)
        XCTAssertEqual((s["key_pairs"] as? [Any])?.count, 0)
    }

    func testCostLimitCreatesNothing() throws {
        try start()
        let before = try state("none")
        let r = try cloudbench(provisionArgs(try fleet(Self.twoPairs, repetitions: 50), ["--max-cost", "0.01"]))
        XCTAssertEqual(r.status, 4, r.stderr)
        XCTAssertTrue(r.stderr.contains("is above --max-cost 0.01 USD; nothing was created"), r.stderr)
        let after = try state("none")
        for key in ["all_instances", "all_security_groups", "all_key_pairs"] {
            XCTAssertEqual(after[key] as? Int, before[key] as? Int, key)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(dir)/runs"), "no run was started")
    }
}
