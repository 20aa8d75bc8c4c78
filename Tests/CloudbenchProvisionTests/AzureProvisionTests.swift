import Foundation
import XCTest

/// `provision`, `destroy` and `sweep` on Azure against `Fixtures/fake_azure.py` (the OAuth2
/// client-credentials token, Resource Manager shapes, Azure-AsyncOperation polling, nextLink paging,
/// a 429 with Retry-After, a 500 on the group's delete, a group that takes several polls to go),
/// inside a namespace with no route.
final class AzureProvisionTests: XCTestCase {
    var fx: CloudAPIFixture?
    static let tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47"
    static let client = "0b8f6a52-1b9b-4e0c-9d0a-6c3f2b1e7a11"
    static let secret = "cbTestSecret~Vq8Q~notARealSecretButSecret"
    static let token = "eyJ0eXAiOiJKV1QiTESTTOKENcloudbenchARM"
    static let subscription = "00000000-1111-2222-3333-444444444444"

    override func tearDown() {
        fx?.close()
        super.tearDown()
    }

    func start(_ extra: [String] = []) throws -> CloudAPIFixture {
        let f = try CloudAPIFixture(script: "fake_azure.py", prefix: "cbaz")
        fx = f
        try f.start([Self.tenant, Self.client, Self.secret, Self.token, Self.subscription, "\(Repo.fixtures)/cloud-init-console.txt"] + extra)
        return f
    }

    var env: [String: String] {
        ["AZURE_TENANT_ID": Self.tenant, "AZURE_CLIENT_ID": Self.client, "AZURE_CLIENT_SECRET": Self.secret,
         "AZURE_SUBSCRIPTION_ID": Self.subscription, "CLOUDBENCH_AZURE_ARM_URL": fx!.url, "CLOUDBENCH_AZURE_LOGIN_URL": fx!.url]
    }

    static let twoPairs = """
        version: 1
        name: az-test
        currency: USD
        run: { tests: [tcp_bw, tcp_lat], duration: 2s, warmup: 0s, repetitions: 1 }
        pairs:
          - { name: d2s, provider: azure, type: D2s_v5, region: eastus, zones: ["1", "2"] }
          - { name: b1s, provider: azure, type: B1s, region: eastus, zones: ["1"], placement_group: cluster }
        """

    static func resources(_ s: [String: Any], _ type: String) -> [[String: Any]] {
        (s["resources"] as? [String: Any] ?? [:]).values.compactMap { $0 as? [String: Any] }.filter { $0["type"] as? String == type }
    }

    static func props(_ r: [String: Any]) -> [String: Any] { r["properties"] as? [String: Any] ?? [:] }

    func testTwoPairsInOneResourceGroupWithNarrowRulesThenTheGroupIsGone() throws {
        let f = try start()
        let r = try f.cloudbench(f.provisionArgs(try f.writeFleet(Self.twoPairs), ["--no-ssh-wait-test-only"]), environment: env)
        XCTAssertEqual(r.status, 0, r.stderr)
        let run = try XCTUnwrap(CloudAPIFixture.runID(r.stdout), r.stdout)
        XCTAssertTrue(r.stdout.contains("estimated cost of az-test (2 pairs):"), r.stdout)
        XCTAssertTrue(r.stdout.contains("public IPv4 d2s"), r.stdout)
        XCTAssertFalse(r.stderr.contains("trusted on first use"), "the serial log gave every host key: \(r.stderr)")

        let s = try f.state()
        let groups = s["groups"] as? [String: Any] ?? [:]
        let group = try XCTUnwrap(groups["cloudbench-\(run)"] as? [String: Any], "\(groups.keys)")
        let tags = group["tags"] as? [String: String] ?? [:]
        XCTAssertEqual(tags["cloudbench-run"], run)
        XCTAssertEqual(tags["cloudbench-managed"], "true")
        XCTAssertNotNil(tags["cloudbench-created"])
        let vms = Self.resources(s, "Microsoft.Compute/virtualMachines")
        XCTAssertEqual(vms.count, 4)
        let pub = try String(contentsOfFile: "\(f.dir)/runs/\(run)/id_ed25519.pub", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        var sizes: [String] = [], zones: [String] = []
        for vm in vms {
            let p = Self.props(vm)
            sizes.append((p["hardwareProfile"] as? [String: Any])?["vmSize"] as? String ?? "")
            zones.append((vm["zones"] as? [String])?.first ?? "")
            XCTAssertEqual(vm["location"] as? String, "eastus")
            XCTAssertEqual((vm["tags"] as? [String: String])?["cloudbench-run"], run)
            let image = (p["storageProfile"] as? [String: Any])?["imageReference"] as? [String: String]
            XCTAssertEqual(image, ["publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server", "version": "latest"])
            let os = p["osProfile"] as? [String: Any] ?? [:]
            XCTAssertEqual(os["adminUsername"] as? String, "azureuser")
            let linux = os["linuxConfiguration"] as? [String: Any] ?? [:]
            XCTAssertEqual(linux["disablePasswordAuthentication"] as? Bool, true)
            let keys = (linux["ssh"] as? [String: Any])?["publicKeys"] as? [[String: String]]
            XCTAssertEqual(keys?.map { $0["keyData"] }, [pub])
            let inPPG = p["proximityPlacementGroup"] != nil
            XCTAssertEqual(inPPG, (vm["name"] as? String ?? "").hasPrefix("cb-b1s-"), "only the placement-group entry's VMs are in one")
        }
        XCTAssertEqual(sizes.sorted(), ["Standard_B1s", "Standard_B1s", "Standard_D2s_v5", "Standard_D2s_v5"])
        XCTAssertEqual(zones.sorted(), ["1", "1", "1", "2"])
        XCTAssertEqual(Self.resources(s, "Microsoft.Compute/proximityPlacementGroups").count, 1)
        XCTAssertEqual(Self.resources(s, "Microsoft.Network/publicIPAddresses").map { ($0["sku"] as? [String: String])?["name"] }, Array(repeating: "Standard", count: 4))
        // Accelerated networking where the region's SKU list says the size has it.
        for nic in Self.resources(s, "Microsoft.Network/networkInterfaces") {
            let on = Self.props(nic)["enableAcceleratedNetworking"] as? Bool
            XCTAssertEqual(on, (nic["name"] as? String ?? "").hasPrefix("cb-d2s-"), "\(nic["name"] ?? "")")
        }
        let nsgs = Self.resources(s, "Microsoft.Network/networkSecurityGroups")
        XCTAssertEqual(nsgs.count, 2, "one network security group per pair")
        let vnet = try XCTUnwrap(Self.resources(s, "Microsoft.Network/virtualNetworks").first)
        let subnets = Self.props(vnet)["subnets"] as? [[String: Any]] ?? []
        XCTAssertEqual(subnets.count, 2)
        for subnet in subnets {
            let sp = Self.props(subnet)
            let prefix = sp["addressPrefix"] as? String ?? ""
            let nsgID = (sp["networkSecurityGroup"] as? [String: String])?["id"] ?? ""
            let nsg = try XCTUnwrap(nsgs.first { $0["id"] as? String == nsgID }, nsgID)
            let rules = (Self.props(nsg)["securityRules"] as? [[String: Any]] ?? []).map(Self.props)
            XCTAssertEqual(rules.count, 3, "\(rules)")
            let allows = rules.filter { $0["access"] as? String == "Allow" }
            XCTAssertEqual(allows.map { $0["sourceAddressPrefix"] as? String ?? "" }.sorted(), ["198.51.100.7/32", prefix].sorted())
            XCTAssertEqual(allows.first { $0["sourceAddressPrefix"] as? String == "198.51.100.7/32" }?["destinationPortRange"] as? String, "22")
            XCTAssertTrue(rules.contains { $0["access"] as? String == "Deny" && $0["sourceAddressPrefix"] as? String == "VirtualNetwork" })
        }
        // The 429 on the first NIC was waited out (its PUT was sent twice).
        let requests = s["requests"] as? [[String: Any]] ?? []
        let nicPuts = requests.filter { $0["method"] as? String == "PUT" && ($0["path"] as? String ?? "").contains("/networkInterfaces/") }
        XCTAssertEqual(nicPuts.count, 5)
        XCTAssertEqual(s["bad_auth"] as? Int, 0)
        XCTAssertEqual(s["secret_elsewhere"] as? Int, 0, "the client secret goes only to the token endpoint")
        // Host keys from the serial log: known_hosts has each public address.
        let knownHosts = try String(contentsOfFile: "\(f.dir)/runs/\(run)/known_hosts", encoding: .utf8)
        XCTAssertEqual(Set(knownHosts.split(separator: "\n").map { $0.split(separator: " ")[0] }).count, 4, knownHosts)
        let inventory = try String(contentsOfFile: "\(f.dir)/inventories/az-test-\(run).yaml", encoding: .utf8)
        XCTAssertTrue(inventory.contains("user: azureuser"), inventory)
        XCTAssertTrue(inventory.contains("address: 198.51.100."), inventory)
        XCTAssertTrue(inventory.contains("test_ip: 10.0."), inventory)
        let record = try String(contentsOfFile: "\(f.dir)/runs/\(run)/provision.json", encoding: .utf8)
        XCTAssertTrue(record.contains("\"accelerated_networking\""), record)

        let d = try f.cloudbench(["destroy", run, "--runs-dir", "\(f.dir)/runs"], environment: env)
        XCTAssertEqual(d.status, 0, d.stderr)
        XCTAssertTrue(d.stdout.contains("resource group cloudbench-\(run)"), d.stdout)
        let after = try f.state()
        XCTAssertEqual((after["groups"] as? [String: Any])?.count, 0)
        XCTAssertEqual((after["resources"] as? [String: Any])?.count, 0)
        let gets = (after["requests"] as? [[String: Any]] ?? []).filter {
            $0["method"] as? String == "GET" && ($0["path"] as? String ?? "").hasSuffix("/resourceGroups/cloudbench-\(run)")
        }
        XCTAssertGreaterThanOrEqual(gets.count, 5, "the group answered Deleting for three polls before 404")
        XCTAssertEqual(after["faults_hit"] as? [String], ["nic429", "rgdel500"], "the 429 and the 500 on the delete were met and retried")
        let again = try f.cloudbench(["destroy", run, "--runs-dir", "\(f.dir)/runs"], environment: env)
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stdout.contains("nothing left to remove"), again.stdout)
        for out in [r.stdout, r.stderr, d.stdout, d.stderr] {
            XCTAssertFalse(out.contains(Self.secret))
            XCTAssertFalse(out.contains(Self.token))
            XCTAssertFalse(out.contains("SASSIGNATURE"))
        }
        XCTAssertEqual(f.filesHolding(Self.secret), [])
        XCTAssertEqual(f.filesHolding(Self.token), [])
    }

    func testAFailureHalfwayLeavesNoResourceGroup() throws {
        let f = try start(["--fail-vm", "cb-b1s-1-server"])
        let r = try f.cloudbench(f.provisionArgs(try f.writeFleet(Self.twoPairs), ["--no-ssh-wait-test-only"]), environment: env)
        XCTAssertEqual(r.status, 1, r.stdout + r.stderr)
        XCTAssertTrue(r.stderr.contains("SkuNotAvailable"), r.stderr)
        let s = try f.state()
        XCTAssertEqual((s["groups"] as? [String: Any])?.count, 0)
        XCTAssertEqual((s["resources"] as? [String: Any])?.count, 0)
        XCTAssertFalse(r.stderr.contains(Self.secret) || r.stderr.contains(Self.token))
    }

    func testCtrlCWhileAVMIsCreatingRemovesTheGroup() throws {
        let f = try start()
        let (p, errPath) = try f.startCloudbench(f.provisionArgs(try f.writeFleet(Self.twoPairs), ["--no-ssh-wait-test-only"]), environment: env)
        defer { if p.isRunning { kill(p.processIdentifier, SIGKILL); p.waitUntilExit() } }
        // Wait (30 s at most) until the first VM's PUT has been sent: its operation is then being polled.
        let end = Date().addingTimeInterval(30)
        var seen = false
        while !seen && Date() < end && p.isRunning {
            let requests = try f.state()["requests"] as? [[String: Any]] ?? []
            seen = requests.contains { $0["method"] as? String == "PUT" && ($0["path"] as? String ?? "").contains("/virtualMachines/") }
            if !seen { Thread.sleep(forTimeInterval: 0.2) }
        }
        XCTAssertTrue(seen, "no VM was created within 30 s")
        kill(p.processIdentifier, SIGINT)
        let stop = Date().addingTimeInterval(60)
        while p.isRunning && Date() < stop { Thread.sleep(forTimeInterval: 0.2) }
        XCTAssertFalse(p.isRunning, "provision did not end within 60 s of SIGINT")
        p.waitUntilExit()
        let stderr = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        XCTAssertEqual(p.terminationStatus, 130, stderr)
        XCTAssertTrue(stderr.contains("stopped by a signal"), stderr)
        XCTAssertEqual((try f.state()["groups"] as? [String: Any])?.count, 0, stderr)
    }

    func testWrongSecretIsRefusedWithoutPrintingIt() throws {
        let f = try start()
        var e = env
        e["AZURE_CLIENT_SECRET"] = "wrong-secret-value-xyz"
        let r = try f.cloudbench(f.provisionArgs(try f.writeFleet(Self.twoPairs), ["--no-ssh-wait-test-only"]), environment: e)
        XCTAssertEqual(r.status, 1, r.stdout + r.stderr)
        XCTAssertTrue(r.stderr.contains("HTTP 401 invalid_client"), r.stderr)
        XCTAssertFalse(r.stderr.contains("wrong-secret-value-xyz"), r.stderr)
        XCTAssertEqual((try f.state()["groups"] as? [String: Any])?.count, 0)
    }

    func testSweepRemovesOldRunGroupsByTagAndLeavesYoungOnes() throws {
        let f = try start()
        try f.seed(["20200101-000000-abcd", "2020-01-01T00:00:00Z"])
        try f.seed(["20200102-000000-beef", "2020-01-02T00:00:00Z"])
        let youngRun = "20991231-000000-cafe"
        try f.seed([youngRun, ISO8601DateFormatter().string(from: Date())])
        let sw = try f.cloudbench(["sweep", "--provider", "azure", "--older-than", "1h", "--runs-dir", "\(f.dir)/runs"], environment: env)
        XCTAssertEqual(sw.status, 0, sw.stderr)
        XCTAssertTrue(sw.stdout.contains("run 20200101-000000-abcd: 1 resources removed"), sw.stdout)
        XCTAssertTrue(sw.stdout.contains("run 20200102-000000-beef: 1 resources removed"), sw.stdout)
        XCTAssertTrue(sw.stdout.contains("1 younger runs left alone"), sw.stdout)
        let groups = try f.state()["groups"] as? [String: Any] ?? [:]
        XCTAssertEqual(Array(groups.keys), ["cloudbench-\(youngRun)"])
    }
}
