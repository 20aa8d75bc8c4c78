import Foundation
import Testing
@testable import CloudbenchLab

/// `rate: { up: X, down: Y }`: a link shaped differently each way, each instance's egress and
/// ingress at the rate of the direction it carries, and the inventory it writes.
@Suite("Lab links shaped differently each way")
struct AsymmetricLinkTests {
    static let yaml = """
    name: asym
    run: { tests: [tcp_bw], directions: [client_to_server, server_to_client] }
    pairs:
      - { name: a, provider: aws, type: m4.large, rate: { up: 40 MB/s, down: 15 MB/s }, streams: [1, 4], udp_rate: search }
      - { name: b, provider: aws, type: m4.large, goodput: 10 MB/s }
    """

    @Test("up shapes client → server on both tbfs it crosses, down server → client; a symmetric pair stays one rate")
    func shaping() throws {
        let profile = try LabProfileParser.parse(Self.yaml, source: "p.yaml")
        let a = profile.pairs[0]
        #expect(a.goodput(sentBy: .client).bytesPerSecond == 40e6 && a.goodput(sentBy: .server).bytesPerSecond == 15e6)
        let layout = try LabLayout(configuration: LabConfiguration(), profile: profile)
        let (server, client) = try #require(layout.instances(of: "a"))
        // Client → server: the client's eth0 (its egress) and the bridge's port to the server (the server's ingress).
        #expect(client.tokenBucket == server.ingressTokenBucket)
        #expect(client.tokenBucket == TokenBucket(goodput: Goodput(bytesPerSecond: 40e6)))
        #expect(server.tokenBucket == client.ingressTokenBucket)
        #expect(server.tokenBucket == TokenBucket(goodput: Goodput(bytesPerSecond: 15e6)))
        let (bs, _) = try #require(layout.instances(of: "b"))
        #expect(bs.tokenBucket == bs.ingressTokenBucket && bs.ingressGoodputBytesPerSecond == nil)
        // The inventory: the pair's own sweep and search, the run's directions.
        let inventory = LabInventory.yaml(layout: layout, files: LabFiles(directory: "/run/cloudbench-lab/x"))
        #expect(inventory.contains("  directions: [client_to_server, server_to_client]\n"))
        #expect(inventory.contains("    streams: [1, 4]\n    udp_rate: search\n"))
        #expect(inventory.contains("# emulated goodput 40 MB/s client → server, 15 MB/s server → client"))
    }

    @Test("goodput and rate together, a rate without down, a rate with a burst, a bad direction: refused with their place", arguments: [
        ("name: x\npairs:\n  - { name: a, provider: p, type: t, goodput: 1 MB/s, rate: { up: 2 MB/s, down: 1 MB/s } }\n",
         "p.yaml:3:61: give either 'goodput' (both ways) or 'rate: { up, down }', not both"),
        ("name: x\npairs:\n  - { name: a, provider: p, type: t, rate: { up: 2 MB/s } }\n", "p.yaml:3:44: missing key 'down'"),
        ("name: x\npairs:\n  - { name: a, provider: p, type: t, rate: { up: 2 MB/s, down: 1 MB/s }, burst: { rate: 126 MB/s, bytes: 100 MB } }\n",
         "p.yaml:3:81: a pair with 'rate: { up, down }' cannot have a burst credit too; give it 'goodput:'"),
        ("name: x\npairs:\n  - { name: a, provider: p, type: t, goodput: 1 MB/s, directions: [sideways] }\n",
         "p.yaml:3:68: unknown direction 'sideways'; directions are client_to_server, server_to_client, bidirectional"),
        ("name: x\npairs:\n  - { name: a, provider: p, type: t }\n",
         "p.yaml:3:5: missing key 'goodput' (or 'rate: { up: X, down: Y }' for a link shaped differently each way)"),
    ])
    func mistakes(yaml: String, message: String) {
        #expect(throws: LabError.usage(message)) { try LabProfileParser.parse(yaml, source: "p.yaml") }
    }
}
