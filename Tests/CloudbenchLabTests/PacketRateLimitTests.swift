import Foundation
import Testing
import NetNS
@testable import CloudbenchLab

/// `pps_limit:`: the profile key, the nftables cap each instance gets, how its drop counter is
/// read, and the stand-in `ethtool` that reports it as ENA's `pps_allowance_exceeded`.
@Suite("Lab packet-rate limits and the stand-in ethtool")
struct PacketRateLimitTests {
    static let yaml = """
    name: pps
    run: { tests: [udp_pps] }
    pairs:
      - { name: a, provider: aws, type: m5.large, goodput: 50 MB/s, pps_limit: 20000, udp_rate: search }
      - { name: b, provider: aws, type: m5.large, goodput: 10 MB/s }
    """

    @Test("pps_limit caps both instances' eth0 at N packets/s with a burst of 10 ms; a pair without it has no cap")
    func profileAndLayout() throws {
        let profile = try LabProfileParser.parse(Self.yaml, source: "p.yaml")
        #expect(profile.pairs[0].packetRateLimit == 20_000 && profile.pairs[1].packetRateLimit == nil)
        let layout = try LabLayout(configuration: LabConfiguration(name: "x"), profile: profile)
        let (server, client) = try #require(layout.instances(of: "a"))
        for i in [server, client] { #expect(i.packetRateCap == PacketRateLimit(packetsPerSecond: 20_000, device: "eth0")) }
        let (bs, bc) = try #require(layout.instances(of: "b"))
        #expect(bs.packetRateCap == nil && bc.packetRateCap == nil)
        let script = try #require(client.packetRateCap).script
        #expect(script.contains("table inet cloudbench_pps {"))
        #expect(script.contains("oifname \"eth0\" limit rate over 20000/second burst 200 packets counter drop"))
        #expect(PacketRateLimit(packetsPerSecond: 100, device: "eth0").burstPackets == 5)
    }

    @Test("a pps_limit that is not a whole number from 1 to 10^8: refused with its place", arguments: [
        ("name: x\npairs:\n  - { name: a, provider: p, type: t, goodput: 1 MB/s, pps_limit: 0 }\n",
         "p.yaml:3:66: pps_limit must be a whole number of packets per second from 1 to 100000000"),
        ("name: x\npairs:\n  - { name: a, provider: p, type: t, goodput: 1 MB/s, pps_limit: many }\n",
         "p.yaml:3:66: pps_limit must be a whole number of packets per second from 1 to 100000000"),
    ])
    func mistakes(yaml: String, message: String) {
        #expect(throws: LabError.usage(message)) { try LabProfileParser.parse(yaml, source: "p.yaml") }
    }

    @Test("the drop counter is read from nft's listing; no rule, no count")
    func droppedCounter() {
        let listing = """
        table inet cloudbench_pps {
        \tchain egress {
        \t\ttype filter hook output priority filter; policy accept;
        \t\toifname "eth0" limit rate over 20000/second burst 200 packets counter packets 1234 bytes 130804 drop
        \t}
        }
        """
        #expect(PacketRateLimit.dropped(nftListing: listing) == 1234)
        #expect(PacketRateLimit.dropped(nftListing: "table inet cloudbench_pps {\n}\n") == nil)
        #expect(PacketRateLimit.dropped(nftListing: "oifname \"eth0\" limit rate over 5/second counter packets x bytes 0 drop") == nil)
    }

    @Test("the stand-in ethtool prints ENA's allowances with pps_allowance_exceeded = the cap's drops, and driver ena")
    func standIn() throws {
        let dir = NSTemporaryDirectory() + "cbt-standin-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // A fake nft that lists a rule which dropped 4321 packets.
        try "#!/bin/sh\nprintf '\\t\\toifname \"eth0\" limit rate over 20000/second burst 200 packets counter packets 4321 bytes 9 drop\\n'\n"
            .write(toFile: "\(dir)/nft", atomically: true, encoding: .utf8)
        try PacketRateLimit.standInEthtool(nft: "\(dir)/nft").write(toFile: "\(dir)/ethtool", atomically: true, encoding: .utf8)
        for f in ["nft", "ethtool"] { try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: "\(dir)/\(f)") }
        let stats = try ProcessRunner.check(["\(dir)/ethtool", "-S", "eth0"])
        #expect(stats.hasPrefix("NIC statistics:\n"), "\(stats)")
        #expect(stats.contains("     pps_allowance_exceeded: 4321\n") && stats.contains("     bw_out_allowance_exceeded: 0\n"), "\(stats)")
        #expect(try ProcessRunner.check(["\(dir)/ethtool", "-i", "eth0"]).contains("driver: ena"))
        // Without the cap's table (nft fails): the counter reads 0, never a broken line.
        try "#!/bin/sh\nexit 1\n".write(toFile: "\(dir)/nft", atomically: true, encoding: .utf8)
        #expect(try ProcessRunner.check(["\(dir)/ethtool", "-S", "eth0"]).contains("     pps_allowance_exceeded: 0\n"))
    }

    @Test("an instance with a stand-in gets its own /usr/local/sbin holding it, in sshd's private mount namespace")
    func sshdLaunch() throws {
        let profile = try LabProfileParser.parse(Self.yaml, source: "p.yaml")
        let layout = try LabLayout(configuration: LabConfiguration(name: "x"), profile: profile)
        let (_, client) = try #require(layout.instances(of: "a"))
        let files = LabFiles(directory: "/run/cloudbench-lab/it's")
        let argv = SSHServerLaunch.argv(instance: client, files: files, sshd: "/usr/sbin/sshd", privateDirectories: [],
                                        standInEthtool: files.standInEthtool(client))
        #expect(argv.starts(with: ["ip", "netns", "exec", client.namespace, "unshare", "--mount", "--propagation", "private", "sh", "-c"]))
        #expect(argv[10] == "mount -t tmpfs -o mode=0755,size=1m cloudbench-lab /usr/local/sbin && "
                + "cp '/run/cloudbench-lab/it'\\''s/hosts/a-client/ethtool' /usr/local/sbin/ethtool && exec \"$0\" \"$@\"")
        let plain = SSHServerLaunch.argv(instance: client, files: files, sshd: "/usr/sbin/sshd", privateDirectories: [])
        #expect(plain == ["ip", "netns", "exec", client.namespace, "/usr/sbin/sshd", "-f", files.sshdConfig(client), "-E", files.sshdLog(client)])
    }
}
