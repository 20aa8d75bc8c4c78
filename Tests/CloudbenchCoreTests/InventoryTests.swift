import Foundation
import Testing
@testable import CloudbenchCore

@Suite("Inventory")
struct InventoryTests {
    let loader = InventoryLoader(catalog: try! Catalog.load(directory: RepoPaths.providers))
    var dir: String { "\(RepoPaths.fixtures)/inventories" }

    @Test("the example from the design loads with defaults and per-host overrides applied")
    func good() throws {
        let inv = try loader.load(path: "\(dir)/good.yaml")
        #expect(inv.name == "azure-vs-do")
        #expect(inv.pairs.map(\.name) == ["azure-a2", "do-5"])
        let a2 = inv.pairs[0]
        #expect(a2.price == Money(Decimal(string: "0.1207")!, "EUR"))
        #expect(a2.paths == [.host, .vxlan, .udp])
        #expect(a2.server.testIP == "10.0.0.4" && a2.server.address == "52.174.0.10")
        #expect(a2.server.ssh.user == "ubuntu" && a2.server.ssh.sudo)
        #expect(a2.server.ssh.identity == "\(dir)/id_fixture")
        #expect(inv.run.duration == DurationValue(milliseconds: 10_000) && inv.run.repetitions == 3)
        let do5 = inv.pairs[1]
        #expect(do5.paths == [.host, .external("weave")])
        #expect(do5.client.ssh.port == 2222 && do5.client.ssh.user == "root")
        #expect(do5.server.testIP == "188.166.0.1")
        #expect(do5.client.overlays == ["weave": "10.32.0.2"])
        #expect(inv.hosts.count == 4)
    }

    /// Each bad inventory, with the one line `cloudbench validate` prints for it.
    static let bad: [(String, String)] = [
        ("01-malformed-yaml", "21:4: malformed YAML: did not find expected '-' indicator while parsing a block collection; check indentation, colons and quotes here"),
        ("02-unknown-top-key", "4:1: unknown key 'repetitons' in the inventory; did you mean 'repetitions' under 'run:'?"),
        ("03-unknown-pair-key", "28:5: unknown key 'regoin' in a pair; did you mean 'region'?"),
        ("04-unknown-provider", "26:15: unknown provider 'digitalocaen'; did you mean 'digitalocean'?"),
        ("05-unknown-type", "19:11: unknown instance type 'A22' for azure; did you mean 'A2'?"),
        ("06-unknown-type-no-suggestion", "27:11: unknown instance type 'c5n.18xlarge' for digitalocean; add it to providers/digitalocean.yaml"),
        ("07-duplicate-pair-name", "25:5: pair name 'azure-a2' is used twice (first at line 17); pair names must be unique"),
        ("08-same-host-both-roles", "23:15: the client is the same host as the server (52.174.0.10:22); a pair needs two instances"),
        ("09-bad-ip", "22:46: bad test_ip '10.0.0.400'; give the IP address that carries test traffic"),
        ("10-bad-port-in-address", "30:24: bad port '70000' in address; use a number from 1 to 65535"),
        ("11-bad-ssh-port", "6:9: bad port 'twenty-two'; use a number from 1 to 65535"),
        ("12-bad-duration", "12:13: bad duration '10' for 'duration'; write it like 500ms, 10s or 2m"),
        ("13-bad-warmup-unit", "13:11: bad duration '2 secs' for 'warmup'; write it like 500ms, 2s or 0s"),
        ("14-overlay-address-missing", "30:56: path 'weave' needs the client's address on that overlay; add 'overlays: { weave: ADDRESS }' to the client; did you mean 'weeve'?"),
        ("15-unknown-currency", "3:11: unknown currency 'USX'; did you mean 'USD'?"),
        ("16-price-unknown-currency", "21:12: unknown currency 'EURO' in price; did you mean 'EUR'?"),
        ("17-missing-key-file", "7:13: key file '~/.ssh/does-not-exist-cloudbench' does not exist; fix the path, or remove 'identity' to use ssh-agent"),
        ("18-unknown-test", "11:19: unknown test 'tcp_latency'; did you mean 'tcp_lat'?"),
        ("19-bad-version", "1:10: unsupported inventory version '2'; this cloudbench reads version 1"),
        ("20-price-not-hourly", "21:12: bad price '0.1207 EUR/month'; prices are per hour: write the price like '0.1207 EUR/h'"),
        ("21-passphrase-in-inventory", "10:3: never write a secret into the inventory; put it in an environment variable and name that variable with 'identity_passphrase_env'"),
        ("22-repetitions-zero", "14:16: 'repetitions' must be a whole number from 1 to 1000, not '0'"),
        ("23-duplicate-key", "13:3: 'duration' is given twice in 'run'; keep one"),
        ("24-no-pairs", "1:1: the inventory has no 'pairs'; list at least one pair of instances (or a group under 'groups')"),
        ("25-missing-address", "29:13: the server of pair 'do-5' is missing 'address'"),
        ("26-hostname-without-test-ip", "22:24: address 'a2-server.example.com' is a name, so give 'test_ip' too: the IP address that carries test traffic"),
        ("27-bad-sudo", "9:9: 'sudo' must be true or false, not 'maybe'"),
        ("28-overlay-address-not-ip", "29:56: bad address 'weave-peer-1' on overlay 'weave'; give this host's IP address on that overlay"),
        ("29-builtin-as-overlay", "29:67: 'vxlan' is a built-in path, not an external overlay; cloudbench sets it up itself"),
        ("30-same-test-ip", "23:37: the client's test_ip 10.0.0.4 is the server's too; each instance needs its own"),
        ("31-pairs-not-a-list", "17:3: 'pairs' must be a list of pairs, each starting with '- name:'"),
        ("32-empty-file", "1:1: the inventory is empty; start from inventories/example.yaml"),
        ("33-tab-indentation", "5:1: malformed YAML: a tab indents this line; YAML indents with spaces only"),
        ("34-bad-jump", "10:9: bad jump host 'bastion:notaport'; write it as [user@]host[:port]"),
        ("35-repeated-path", "24:26: path 'host' is listed twice"),
        ("36-placement-contradicts-zones", "21:16: placement 'same-zone' contradicts the zones: the server is in westeurope-1, the client in westeurope-2 (cross-zone); fix the zones or the placement, or leave 'placement' out"),
    ]

    @Test("every bad inventory gets exactly its one message at its position", arguments: bad)
    func badInventory(name: String, expected: String) throws {
        let path = "\(dir)/bad/\(name).yaml"
        do {
            _ = try loader.load(path: path)
            Issue.record("\(name) was accepted")
        } catch let e as InputErrors {
            #expect(e.diagnostics.map(\.description) == ["\(path):\(expected)"])
        }
    }

    @Test("the bad inventories are all distinct")
    func distinct() throws {
        let texts = try Self.bad.map { try String(contentsOfFile: "\(dir)/bad/\($0.0).yaml", encoding: .utf8) }
        #expect(Set(texts).count == Self.bad.count)
        #expect(Self.bad.count >= 20)
    }

    @Test("several problems in one file are all listed, in file order")
    func manyProblems() throws {
        let text = """
        version: 1
        name: many
        currency: USD
        run: { duration: 5, repetitions: 3 }
        pairs:
          - name: a
            provider: azrue
            type: A2
            server: { address: 10.0.0.1 }
            client: { address: 10.0.0.1 }
        """
        do {
            _ = try loader.parse(try YAMLDocument(file: "m.yaml", text: text))
            Issue.record("accepted")
        } catch let e as InputErrors {
            #expect(e.diagnostics.map(\.description) == [
                "m.yaml:4:18: bad duration '5' for 'duration'; write it like 500ms, 10s or 2m",
                "m.yaml:7:15: unknown provider 'azrue'; did you mean 'azure'?",
                "m.yaml:10:15: the client is the same host as the server (10.0.0.1:22); a pair needs two instances",
            ])
        }
    }

    @Test("a missing inventory file is one line naming it")
    func missingFile() {
        #expect(throws: FileError.self) { try loader.load(path: "\(dir)/nope.yaml") }
    }

    @Test("durations", arguments: [
        ("500ms", 500), ("10s", 10_000), ("1.5s", 1500), ("2m", 120_000), ("1m30s", 90_000), ("1h", 3_600_000), ("0s", 0),
    ])
    func durations(text: String, ms: Int) {
        #expect(DurationValue.parse(text)?.milliseconds == ms)
    }

    @Test("not durations", arguments: ["10", "", "s", "10 s", "1.2.3s", "5d", "-1s"])
    func notDurations(text: String) {
        #expect(DurationValue.parse(text) == nil)
    }

    @Test("addresses", arguments: [
        ("10.0.0.1", NetworkAddress.Parsed.ok(host: "10.0.0.1", port: nil)),
        ("10.0.0.1:2222", .ok(host: "10.0.0.1", port: 2222)),
        ("[2001:db8::1]:22", .ok(host: "2001:db8::1", port: 22)),
        ("2001:db8::1", .ok(host: "2001:db8::1", port: nil)),
        ("vm-1.example.com", .ok(host: "vm-1.example.com", port: nil)),
        ("10.0.0.300", .badHost("10.0.0.300")),
        ("host:0", .badPort("0")),
        ("bad_host!", .badHost("bad_host!")),
    ])
    func addresses(text: String, parsed: NetworkAddress.Parsed) {
        #expect(NetworkAddress.parse(text) == parsed)
    }
}
