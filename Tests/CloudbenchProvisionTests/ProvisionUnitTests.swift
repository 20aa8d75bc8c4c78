import CloudbenchCore
@testable import CloudbenchProvision
import CloudbenchPricing
import Foundation
import XCTest

/// Paths inside this repository, found from this source file.
enum Repo {
    static let root: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    static var providers: String { "\(root)/providers" }
    static var fixtures: String { "\(root)/Tests/CloudbenchProvisionTests/Fixtures" }
    static func catalog() throws -> Catalog { try Catalog.load(directory: providers) }
}

final class ProvisionUnitTests: XCTestCase {
    // MARK: console host keys

    func testHostKeysFromARecordedCloudInitConsole() throws {
        let console = try String(contentsOfFile: "\(Repo.fixtures)/cloud-init-console.txt", encoding: .utf8)
        let expected = try String(contentsOfFile: "\(Repo.fixtures)/cloud-init-keys.txt", encoding: .utf8)
            .split(separator: "\n").map(String.init)
        XCTAssertEqual(ConsoleHostKeys.parse(console), expected)
        // Fingerprint lines and the randomart earlier in the boot are not keys.
        XCTAssertEqual(expected.count, 3)
    }

    func testConsoleWithoutTheBlockOrWithForgedLinesGivesNoKeys() throws {
        XCTAssertEqual(ConsoleHostKeys.parse("Linux version 2.6.16-xenU\nlogin: "), [])
        // A key whose blob names another type, bad base64, an unknown type, an unterminated block.
        let ed = "AAAAC3NzaC1lZDI1NTE5AAAAIPX3tTx7iJG3rrYxyaHfb/7aJYWpERJFe1RzvLtWP3nT"
        let forged = """
        -----BEGIN SSH HOST KEY KEYS-----
        ssh-rsa \(ed) root@x
        ssh-ed25519 !!!notbase64
        ssh-dss AAAAB3NzaC1kc3MAAACBAP
        -----END SSH HOST KEY KEYS-----
        -----BEGIN SSH HOST KEY KEYS-----
        ssh-ed25519 \(ed)
        """
        XCTAssertEqual(ConsoleHostKeys.parse(forged), [])
        // A reboot prints the block again: the last one counts.
        let twice = "-----BEGIN SSH HOST KEY KEYS-----\nssh-ed25519 \(ed) a\n-----END SSH HOST KEY KEYS-----\n"
        XCTAssertEqual(ConsoleHostKeys.parse(twice + twice), ["ssh-ed25519 \(ed)"])
    }

    // MARK: fleets

    func testExampleFleetsValidate() throws {
        let loader = FleetLoader(catalog: try Repo.catalog())
        let aws = try loader.load(path: "\(Repo.root)/fleets/aws-example.yaml")
        XCTAssertEqual(aws.provider, "aws")
        XCTAssertEqual(aws.pairCount, 2)
        XCTAssertEqual(aws.entries.map(\.placement), [.placementGroup, .crossZone])
        XCTAssertEqual(aws.run.repetitions, 3)
        XCTAssertEqual(try loader.load(path: "\(Repo.root)/fleets/digitalocean-example.yaml").provider, "digitalocean")
        XCTAssertEqual(try loader.load(path: "\(Repo.root)/fleets/azure-example.yaml").currency, "EUR")
    }

    func testFleetProblemsAtTheirPositions() throws {
        let text = """
        version: 1
        name: bad
        run:
          duration: 10 parsecs
        pairs:
          - name: a
            provider: aws
            type: m5.lage
            region: us-east-1
            zones: [us-east-1a, us-east-1b]
            placement_group: cluster
            count: 99
          - name: b
            provider: awz
            type: x
            region: us-east-1
            zone: us-east-1a
        """
        let doc = try YAMLDocument(file: "fleets/bad.yaml", text: text)
        XCTAssertThrowsError(try FleetLoader(catalog: try Repo.catalog()).parse(doc)) { error in
            let lines = (error as? InputErrors)?.diagnostics.map(\.description) ?? []
            XCTAssertTrue(lines.contains("fleets/bad.yaml:4:13: bad duration '10 parsecs' for 'duration'; write it like 500ms, 10s or 2m"), "\(lines)")
            XCTAssertTrue(lines.contains { $0.hasPrefix("fleets/bad.yaml:8:11: unknown instance type 'm5.lage' for aws; did you mean 'm5.large'?") }, "\(lines)")
            XCTAssertTrue(lines.contains { $0.hasPrefix("fleets/bad.yaml:11:5: a cluster placement group sits in one zone") }, "\(lines)")
            XCTAssertTrue(lines.contains("fleets/bad.yaml:12:12: 'count' must be a whole number from 1 to 32, not '99'"), "\(lines)")
            XCTAssertTrue(lines.contains { $0.hasPrefix("fleets/bad.yaml:14:15: unknown provider 'awz'; did you mean 'aws'?") }, "\(lines)")
            XCTAssertTrue(lines.contains { $0.hasPrefix("fleets/bad.yaml:17:5: unknown key 'zone' in a fleet entry; did you mean 'zones'?") }, "\(lines)")
        }
    }

    // MARK: cost

    func fleet(_ yaml: String) throws -> Fleet {
        try FleetLoader(catalog: try Repo.catalog()).parse(YAMLDocument(file: "f.yaml", text: yaml))
    }

    func testEstimateOfTheAWSExample() throws {
        let catalog = try Repo.catalog()
        let prices = try ProvisionPrices.load(directory: Repo.providers, provider: "aws", currencies: catalog.exchangeRates.currencies)
        let f = try FleetLoader(catalog: catalog).load(path: "\(Repo.root)/fleets/aws-example.yaml")
        let e = try CostEstimate(fleet: f, catalog: catalog, prices: prices)
        // 2 pairs × 2 tests × 1 path × 3 repetitions × (2 + 10 + 1.5) s + 8 s set-up + 300 s overhead = 470 s, per second.
        XCTAssertEqual(e.billedSeconds, 470)
        XCTAssertEqual(e.instances, 4)
        let instances = e.lines.filter { $0.item.hasPrefix("instances") }.reduce(Decimal(0)) { $0 + $1.amount.amount }
        XCTAssertEqual(Money.rounded(instances, places: 6), Money.rounded(Decimal(4) * Decimal(string: "0.096")! * 470 / 3600, places: 6))
        let ipv4 = e.lines.filter { $0.item.hasPrefix("public IPv4") }.reduce(Decimal(0)) { $0 + $1.amount.amount }
        XCTAssertEqual(Money.rounded(ipv4, places: 6), Money.rounded(Decimal(4) * Decimal(string: "0.005")! * 470 / 3600, places: 6))
        // Only the cross-zone pair moves billed traffic: tcp_bw at 10 Gbit/s for 3 × 12 s = 45 GB.
        let cross = try XCTUnwrap(e.lines.first { $0.item.hasPrefix("cross-zone traffic m5-cross") })
        XCTAssertEqual(cross.quantity, "45 GB")
        XCTAssertEqual(cross.amount.amount, Decimal(string: "0.9"))
        XCTAssertEqual(e.lines.filter { $0.item.hasPrefix("cross-zone") }.count, 1)
        XCTAssertTrue(e.table.contains("total"))
        XCTAssertEqual(e.total.currency, "USD")
    }

    func testBillingMinimumAndAMissingRegionalPriceRefuses() throws {
        let catalog = try Repo.catalog()
        var prices = try ProvisionPrices.load(directory: Repo.providers, provider: "aws", currencies: catalog.exchangeRates.currencies)
        prices.overheadSeconds = 0
        prices.billingMinimum = 600
        let small = try fleet("""
            version: 1
            name: f
            run: { tests: [tcp_lat], duration: 1s, warmup: 0s, repetitions: 1 }
            pairs: [{ name: a, provider: aws, type: m5.large, region: us-east-1 }]
            """)
        XCTAssertEqual(try CostEstimate(fleet: small, catalog: catalog, prices: prices).billedSeconds, 600)
        let elsewhere = try fleet("""
            version: 1
            name: f
            pairs: [{ name: a, provider: aws, type: m5.large, region: ap-southeast-7 }]
            """)
        XCTAssertThrowsError(try CostEstimate(fleet: elsewhere, catalog: catalog, prices: prices)) { error in
            XCTAssertTrue("\(error)".contains("no aws price for m5.large in ap-southeast-7"), "\(error)")
        }
    }

    func testGigabitsFromDocumentedNetwork() {
        XCTAssertEqual(CostEstimate.gigabits("Up to 10 Gigabit"), 10)
        XCTAssertEqual(CostEstimate.gigabits("12.5 Gigabit"), 12.5)
        XCTAssertNil(CostEstimate.gigabits("Moderate"))
    }

    // MARK: EC2 wire format

    func testQueryEncodingAndTagSpecifications() {
        XCTAssertEqual(EC2Client.encode("a b/c+d=e~"), "a%20b%2Fc%2Bd%3De~")
        let tags = EC2Client.tagSpecifications(["instance", "volume"], tags: [("cloudbench-run", "R"), ("cloudbench-managed", "true")])
        XCTAssertEqual(tags.first { $0.0 == "TagSpecification.2.ResourceType" }?.1, "volume")
        XCTAssertEqual(tags.first { $0.0 == "TagSpecification.2.Tag.2.Key" }?.1, "cloudbench-managed")
        XCTAssertEqual(EC2Client.filters([("tag:cloudbench-run", ["R"])]).map { "\($0.0)=\($0.1)" },
                       ["Filter.1.Name=tag:cloudbench-run", "Filter.1.Value.1=R"])
    }

    func testXMLAnswerAndErrorParsing() throws {
        let answer = """
        <?xml version="1.0" encoding="UTF-8"?>
        <DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
          <reservationSet><item><instancesSet><item>
            <instanceId>i-0abc</instanceId><instanceState><code>16</code><name>running</name></instanceState>
            <ipAddress>203.0.113.10</ipAddress><privateIpAddress>172.31.1.2</privateIpAddress>
            <placement><availabilityZone>us-east-1a</availabilityZone></placement>
            <tagSet><item><key>cloudbench-run</key><value>R1</value></item></tagSet>
          </item></instancesSet></item></reservationSet>
        </DescribeInstancesResponse>
        """
        let root = try XCTUnwrap(XMLNode.parse(Array(answer.utf8)))
        let inst = try XCTUnwrap(AWSProvider.instances(root).first)
        XCTAssertEqual(inst.value("ipAddress"), "203.0.113.10")
        XCTAssertEqual(inst.child("placement")?.value("availabilityZone"), "us-east-1a")
        XCTAssertEqual(inst.tags, ["cloudbench-run": "R1"])
        XCTAssertNil(XMLNode.parse(Array("<a><b></a>".utf8)))
        let deep = String(repeating: "<a>", count: 100) + String(repeating: "</a>", count: 100)
        XCTAssertNil(XMLNode.parse(Array(deep.utf8)))
    }

    func testGravitonTypesGetArmImages() {
        XCTAssertEqual(AWSProvider.architecture(of: "c6g.large"), "arm64")
        XCTAssertEqual(AWSProvider.architecture(of: "c7gn.xlarge"), "arm64")
        XCTAssertEqual(AWSProvider.architecture(of: "m5.large"), "amd64")
        XCTAssertEqual(AWSProvider.architecture(of: "m7i.large"), "amd64")
    }

    func testCredentialsFileProfile() {
        let text = """
        [default]
        aws_access_key_id = AKIADEFAULT
        aws_secret_access_key = s1
        # a comment
        [bench]
        aws_access_key_id=AKIABENCH
        aws_secret_access_key=s2
        aws_session_token = tok
        """
        XCTAssertEqual(AWSCredentials.fromCredentialsFile(text, profile: "bench")?.accessKeyID, "AKIABENCH")
        XCTAssertEqual(AWSCredentials.fromCredentialsFile(text, profile: "bench")?.sessionToken, "tok")
        XCTAssertEqual(AWSCredentials.fromCredentialsFile(text, profile: "default")?.secretAccessKey, "s1")
        XCTAssertNil(AWSCredentials.fromCredentialsFile(text, profile: "other"))
        XCTAssertFalse("\(AWSCredentials.fromCredentialsFile(text, profile: "default")!)".contains("s1"))
    }

    // MARK: the written inventory

    func testWrittenInventoryLoadsAsAnInventory() throws {
        let catalog = try Repo.catalog()
        let f = try FleetLoader(catalog: catalog).load(path: "\(Repo.root)/fleets/aws-example.yaml")
        let dir = NSTemporaryDirectory() + "cb-fleetinv-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        FileManager.default.createFile(atPath: "\(dir)/id_ed25519", contents: Data())
        FileManager.default.createFile(atPath: "\(dir)/known_hosts", contents: Data())
        func inst(_ n: Int, _ zone: String) -> ProvisionedInstance {
            ProvisionedInstance(id: "i-\(n)", publicAddress: "203.0.113.\(n)", privateAddress: "172.31.0.\(n)", zone: zone, launchTime: nil)
        }
        let pairs = [ProvisionedPair(entry: "m5-cluster", name: "m5-cluster-1", server: inst(1, "us-east-1a"), client: inst(2, "us-east-1a")),
                     ProvisionedPair(entry: "m5-cross", name: "m5-cross-1", server: inst(3, "us-east-1a"), client: inst(4, "us-east-1b"))]
        let text = FleetInventory.text(fleet: f, runID: "20261201-000000-abcd", pairs: pairs, key: "\(dir)/id_ed25519", knownHosts: "\(dir)/known_hosts")
        let inv = try InventoryLoader(catalog: catalog).parse(YAMLDocument(file: "\(dir)/inv.yaml", text: text))
        XCTAssertEqual(inv.name, "aws-example-20261201-000000-abcd")
        XCTAssertEqual(inv.pairs.map(\.name), ["m5-cluster-1", "m5-cross-1"])
        XCTAssertEqual(inv.pairs.map(\.placement), ["placement-group", "cross-zone"])
        XCTAssertEqual(inv.pairs[1].client.testIP, "172.31.0.4")
        XCTAssertEqual(inv.pairs[1].client.zone, "us-east-1b")
        XCTAssertEqual(inv.ssh.user, "ubuntu")
        XCTAssertEqual(inv.run, f.run)
        XCTAssertEqual(FleetInventory.knownHosts(pairs: pairs, keys: ["i-3": ["ssh-ed25519 AAAA"]]), "203.0.113.3 ssh-ed25519 AAAA\n")
    }
}
