import Foundation
import Testing
@testable import CloudbenchLab

/// The lab's burst credit: profile key, tbf parameters, the refill script and the inventory.
@Suite("Lab burst credits")
struct BurstCreditTests {
    static let profileText = """
        name: b
        run: { duration: 3s, sustained_after: 12s }
        pairs:
          - { name: t2, provider: aws, type: t2.small, goodput: 8 MB/s, burst: { rate: 126 MB/s, bytes: 620 MB } }
          - { name: m4, provider: aws, type: m4.large, goodput: 60 MB/s }
        """

    @Test("a burst link: baseline rate, the credit as tbf's bucket, peakrate with a 4 ms peak bucket")
    func tokenBucket() throws {
        let profile = try LabProfileParser.parse(Self.profileText, source: "b.yaml")
        let burst = try #require(profile.pairs[0].burst)
        #expect(burst.creditBytes == 620_000_000 && burst.peak.bytesPerSecond == 126e6)
        // Wire rates: 8e6 × 1514/1448 = 8_364_641, 126e6 × 1514/1448 = 131_743_094; the credit lasts 620e6 / their difference.
        #expect(abs(burst.seconds(baseline: profile.pairs[0].goodput) - 5.025) < 0.001)
        let bucket = TokenBucket(goodput: profile.pairs[0].goodput, burst: burst)
        #expect(bucket.tcArguments == ["tbf", "rate", "66917128bit", "burst", "620000000", "peakrate", "1053944752bit",
                                       "mtu", "526972", "limit", "3820549"])
        #expect(TokenBucket(goodput: profile.pairs[1].goodput).tcArguments.count == 7, "a steady link has no peakrate")
    }

    @Test("lab check's target for a burst pair: the emulation's mean over the tool's window from a full credit")
    func checkTarget() throws {
        let profile = try LabProfileParser.parse(Self.profileText, source: "b.yaml")
        let (pair, burst) = (profile.pairs[0], try #require(profile.pairs[0].burst))
        func mb(_ w: (from: Double, to: Double)) -> Double {
            burst.averageGoodput(baseline: pair.goodput, from: w.from, to: w.to).bytesPerSecond / 1e6
        }
        #expect(mb(IPerf3Tool().window(seconds: 3)) == 126)
        // 0-10 s: 126 MB/s for 5.0252 s, then 8: (126·5.0252 + 8·4.9748) / 10 = 67.30.
        #expect(abs(mb(IPerf3Tool().window(seconds: 10)) - 67.30) < 0.01)
        // The agent counts after a 2 s warm-up: 2-12 s holds 3.0252 s of the burst: 43.70.
        #expect(abs(mb(AgentGoodputTool(binary: "/nonexistent").window(seconds: 10)) - 43.70) < 0.01)
    }

    @Test("before-cell refills the burst pair's four qdiscs for tcp_bw only; no script without a burst pair")
    func refillScript() throws {
        let profile = try LabProfileParser.parse(Self.profileText, source: "b.yaml")
        let layout = try LabLayout(configuration: LabConfiguration(name: "x"), profile: profile)
        let script = try #require(BurstRefill.script(layout: layout))
        #expect(script.hasPrefix("#!/bin/sh\n"))
        #expect(script.contains("[ \"$CLOUDBENCH_CELL_TEST\" = tcp_bw ] || exit 0\n"))
        #expect(script.contains("  t2)\n    tc -n cbl-x-t2-s qdisc replace dev eth0 root tbf rate 66917128bit burst 620000000 peakrate"))
        #expect(script.components(separatedBy: "qdisc replace").count - 1 == 4)
        #expect(script.contains("tc -n cbl-x-fabric qdisc replace dev v0 root") && script.contains("tc -n cbl-x-fabric qdisc replace dev v1 root"))
        #expect(!script.contains("m4)"))
        var steady = profile
        steady.pairs.removeFirst()
        #expect(BurstRefill.script(layout: try LabLayout(configuration: LabConfiguration(name: "x"), profile: steady)) == nil)
    }

    @Test("the inventory passes sustained_after through and says how long the credit lasts")
    func inventory() throws {
        let profile = try LabProfileParser.parse(Self.profileText, source: "b.yaml")
        let layout = try LabLayout(configuration: LabConfiguration(name: "x"), profile: profile)
        let yaml = LabInventory.yaml(layout: layout, files: LabFiles(directory: "/run/cloudbench-lab/x"))
        #expect(yaml.contains("  paths: [host]\n  sustained_after: 12s\npairs:\n"))
        #expect(yaml.contains("    # burst credit: 126 MB/s while 620000000 bytes last (about 5.0 s), refilled before each tcp_bw\n"))
        #expect(layout.instances[0].burst == profile.pairs[0].burst && layout.instances[2].burst == nil)
    }

    @Test("burst sizes", arguments: [("620 MB", 620_000_000), ("1.5 GB", 1_500_000_000), ("64 MiB", 67_108_864), ("2000000 B", 2_000_000)])
    func sizes(text: String, bytes: Int) { #expect(ByteCount(parsing: text)?.bytes == bytes) }
}
