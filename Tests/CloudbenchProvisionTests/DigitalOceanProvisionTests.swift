import Foundation
import XCTest

/// `provision`, `destroy` and `sweep` on DigitalOcean against `Fixtures/fake_digitalocean.py`
/// (API v2 shapes; pages of two; a 429 with RateLimit-Reset, a 500 on create, a 503 on delete,
/// droplets slow to become active and slow to go), inside a namespace with no route.
final class DigitalOceanProvisionTests: XCTestCase {
    var fx: CloudAPIFixture?
    static let token = "dop_v1_cloudbenchTESTtoken0123456789abcdef"

    override func tearDown() {
        fx?.close()
        super.tearDown()
    }

    func start(_ extra: [String] = []) throws -> CloudAPIFixture {
        let f = try CloudAPIFixture(script: "fake_digitalocean.py", prefix: "cbdo")
        fx = f
        try f.start([Self.token] + extra)
        return f
    }

    var env: [String: String] {
        ["DIGITALOCEAN_TOKEN": Self.token, "CLOUDBENCH_DIGITALOCEAN_API_URL": fx!.url]
    }

    static let twoPairs = """
        version: 1
        name: do-test
        run: { tests: [tcp_bw, tcp_lat], duration: 2s, warmup: 0s, repetitions: 1 }
        pairs:
          - { name: small, provider: digitalocean, type: s-1vcpu-1gb, region: ams3 }
          - { name: two, provider: digitalocean, type: s-2vcpu-2gb, region: fra1, image: debian-12-x64 }
        """

    static func droplets(_ s: [String: Any]) -> [[String: Any]] {
        (s["droplets"] as? [String: Any] ?? [:]).values.compactMap { $0 as? [String: Any] }.filter { $0["_deleted"] is NSNull }
    }

    func testTwoPairsCreatedWithSizesTagsAndNarrowFirewallsThenNothingRemains() throws {
        let f = try start()
        let r = try f.cloudbench(f.provisionArgs(try f.writeFleet(Self.twoPairs), ["--no-ssh-wait-test-only"]), environment: env)
        XCTAssertEqual(r.status, 0, r.stderr)
        let run = try XCTUnwrap(CloudAPIFixture.runID(r.stdout), r.stdout)
        XCTAssertTrue(r.stdout.contains("estimated cost of do-test (2 pairs):"), r.stdout)
        // Hourly billing: a short run is billed one started hour per droplet.
        XCTAssertTrue(r.stdout.contains("4 instances, 3600 s billed each"), r.stdout)
        XCTAssertTrue(r.stderr.contains("trusted on first use"), r.stderr)

        let s = try f.state()
        let ds = Self.droplets(s)
        XCTAssertEqual(ds.count, 4)
        XCTAssertEqual(ds.map { $0["size_slug"] as? String ?? "" }.sorted(), ["s-1vcpu-1gb", "s-1vcpu-1gb", "s-2vcpu-2gb", "s-2vcpu-2gb"])
        XCTAssertEqual(ds.map { ($0["region"] as? [String: Any])?["slug"] as? String ?? "" }.sorted(), ["ams3", "ams3", "fra1", "fra1"])
        XCTAssertEqual(Set(ds.map { ($0["image"] as? [String: Any])?["slug"] as? String ?? "" }), ["ubuntu-24-04-x64", "debian-12-x64"])
        let keys = (s["keys"] as? [String: Any] ?? [:]).values.compactMap { $0 as? [String: Any] }
        XCTAssertEqual(keys.map { $0["name"] as? String }, ["cloudbench-\(run)"])
        let pub = try String(contentsOfFile: "\(f.dir)/runs/\(run)/id_ed25519.pub", encoding: .utf8)
        XCTAssertEqual(keys.first?["public_key"] as? String, pub.trimmingCharacters(in: .whitespacesAndNewlines))
        let keyID = keys.first?["id"] as? Int
        for d in ds {
            XCTAssertEqual(d["ssh_keys"] as? [Int], [keyID!])
            let tags = d["tags"] as? [String] ?? []
            XCTAssertTrue(tags.contains("cloudbench-run-\(run)") && tags.contains("cloudbench-managed"), "\(tags)")
        }
        let firewalls = (s["firewalls"] as? [String: Any] ?? [:]).values.compactMap { $0 as? [String: Any] }
        XCTAssertEqual(firewalls.count, 2, "one firewall per pair")
        for fw in firewalls {
            let pairTag = try XCTUnwrap((fw["tags"] as? [String])?.first)
            // The firewall applies to that pair's two droplets, and only them.
            XCTAssertEqual(ds.filter { ($0["tags"] as? [String] ?? []).contains(pairTag) }.count, 2)
            let inbound = try XCTUnwrap(fw["inbound_rules"] as? [[String: Any]])
            XCTAssertEqual(inbound.count, 4, "\(inbound)")
            let ssh = inbound.filter { ($0["sources"] as? [String: Any])?["addresses"] != nil }
            XCTAssertEqual(ssh.count, 1)
            XCTAssertEqual(ssh.first?["ports"] as? String, "22")
            XCTAssertEqual(ssh.first?["protocol"] as? String, "tcp")
            XCTAssertEqual((ssh.first?["sources"] as? [String: Any])?["addresses"] as? [String], ["198.51.100.7/32"])
            for rule in inbound where rule["ports"] as? String != "22" {
                XCTAssertEqual(rule["sources"] as? [String: [String]], ["tags": [pairTag]], "test traffic only from the pair")
            }
        }
        // Paging was followed, the 429 and the 500 were waited out.
        let requests = s["requests"] as? [[String: Any]] ?? []
        XCTAssertTrue(requests.contains { ($0["query"] as? String ?? "").contains("page=2") }, "a second page was read")
        XCTAssertEqual(s["bad_auth"] as? Int, 0)
        let inventory = try String(contentsOfFile: "\(f.dir)/inventories/do-test-\(run).yaml", encoding: .utf8)
        XCTAssertTrue(inventory.contains("user: root"), inventory)
        XCTAssertTrue(inventory.contains("address: 203.0.113."), inventory)
        XCTAssertTrue(inventory.contains("test_ip: 10.110.0."), inventory)

        let d = try f.cloudbench(["destroy", run, "--runs-dir", "\(f.dir)/runs"], environment: env)
        XCTAssertEqual(d.status, 0, d.stderr)
        let after = try f.state()
        XCTAssertEqual((after["droplets"] as? [String: Any])?.count, 0, "\(after["droplets"] ?? "")")
        XCTAssertEqual((after["firewalls"] as? [String: Any])?.count, 0, "the firewall delete answered 503 once, then was retried")
        XCTAssertEqual((after["keys"] as? [String: Any])?.count, 0)
        XCTAssertEqual(after["tags"] as? [String], ["cloudbench-managed"])
        // The 429 (RateLimit-Reset), the 500 on a create and the 503 on a delete were all met and waited out.
        XCTAssertEqual((after["faults_hit"] as? [String])?.sorted(), ["fw500", "fwdel503", "list429"])
        let again = try f.cloudbench(["destroy", run, "--runs-dir", "\(f.dir)/runs"], environment: env)
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stdout.contains("nothing left to remove"), again.stdout)

        let record = try String(contentsOfFile: "\(f.dir)/runs/\(run)/provision.json", encoding: .utf8)
        XCTAssertTrue(record.contains("\"provider\" : \"digitalocean\""), record)
        XCTAssertTrue(record.contains("\"instance_seconds\""), record)
        // The token is in no output and no file the run wrote.
        for out in [r.stdout, r.stderr, d.stdout, d.stderr, again.stdout, again.stderr] { XCTAssertFalse(out.contains(Self.token)) }
        XCTAssertEqual(f.filesHolding(Self.token), [])
    }

    func testAFailureHalfwayLeavesNothingAndNamesTheReason() throws {
        // The third droplet (the first of the second pair) is refused.
        let f = try start(["--fail-droplet", "3"])
        let r = try f.cloudbench(f.provisionArgs(try f.writeFleet(Self.twoPairs), ["--no-ssh-wait-test-only"]), environment: env)
        XCTAssertEqual(r.status, 1, r.stdout + r.stderr)
        XCTAssertTrue(r.stderr.contains("Size is not available in this region"), r.stderr)
        XCTAssertTrue(r.stderr.contains("removing everything it created"), r.stderr)
        let s = try f.state()
        XCTAssertEqual((s["droplets"] as? [String: Any])?.count, 0)
        XCTAssertEqual((s["firewalls"] as? [String: Any])?.count, 0)
        XCTAssertEqual((s["keys"] as? [String: Any])?.count, 0)
        XCTAssertEqual(s["tags"] as? [String], ["cloudbench-managed"])
        XCTAssertFalse(r.stderr.contains(Self.token))
        XCTAssertEqual(f.filesHolding(Self.token), [])
    }

    func testSweepRemovesAnOldLeftoverByTagAndLeavesAYoungRun() throws {
        let f = try start()
        let old = "20200101-000000-abcd"
        try f.seed([old])
        let r = try f.cloudbench(f.provisionArgs(try f.writeFleet(Self.twoPairs), ["--no-ssh-wait-test-only"]), environment: env)
        XCTAssertEqual(r.status, 0, r.stderr)
        let young = try XCTUnwrap(CloudAPIFixture.runID(r.stdout))
        let sw = try f.cloudbench(["sweep", "--provider", "digitalocean", "--older-than", "1h", "--runs-dir", "\(f.dir)/runs"], environment: env)
        XCTAssertEqual(sw.status, 0, sw.stderr)
        XCTAssertTrue(sw.stdout.contains("run \(old):"), sw.stdout)
        XCTAssertTrue(sw.stdout.contains("1 younger runs left alone"), sw.stdout)
        let s = try f.state()
        let ds = Self.droplets(s)
        XCTAssertEqual(ds.count, 4)
        XCTAssertTrue(ds.allSatisfy { ($0["tags"] as? [String] ?? []).contains("cloudbench-run-\(young)") })
        let fws = (s["firewalls"] as? [String: Any] ?? [:]).values.compactMap { ($0 as? [String: Any])?["name"] as? String }
        XCTAssertFalse(fws.contains { $0.contains(old) }, "\(fws)")
        let keys = (s["keys"] as? [String: Any] ?? [:]).values.compactMap { ($0 as? [String: Any])?["name"] as? String }
        XCTAssertEqual(keys, ["cloudbench-\(young)"])
        XCTAssertFalse((s["tags"] as? [String] ?? []).contains { $0.contains(old) })
        let d = try f.cloudbench(["destroy", young, "--runs-dir", "\(f.dir)/runs"], environment: env)
        XCTAssertEqual(d.status, 0, d.stderr)
    }
}
