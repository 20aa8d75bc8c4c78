import Foundation
import Testing
import NetNS
@testable import AgentKit

/// A real `udp_bw` cell between two namespaces records `detail.nic` for both sides: the client
/// from a stand-in `ethtool` on its `PATH` (ENA-shaped, its outbound allowance counter growing by
/// 100 per read), the server from its veth's `/sys/class/net` statistics (where no ethtool is installed).
@Suite("NIC counters in a cell", .serialized)
struct NICAgentTests {
    @Test("detail.nic: the client's stand-in ENA allowance delta, the server's sysfs counters")
    func cellRecordsBothSides() throws {
        let dir = NSTemporaryDirectory() + "cbt-ethtool-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // Each `-S` prints the allowance counter 100 higher than the last: one window, one delta of 100.
        let script = """
            #!/bin/sh
            case "$1" in
            -i) echo 'driver: ena' ;;
            -S) n=$(cat '\(dir)/reads' 2>/dev/null || echo 0); n=$((n + 1)); echo $n > '\(dir)/reads'
                echo 'NIC statistics:'
                echo "     bw_in_allowance_exceeded: 0"
                echo "     bw_out_allowance_exceeded: $((n * 100))"
                echo "     pps_allowance_exceeded: 7"
                echo "     queue_0_tx_cnt: $((n * 5000))" ;;
            *) exit 1 ;;
            esac
            """
        try script.write(toFile: "\(dir)/ethtool", atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: "\(dir)/ethtool")

        let pair = try AgentPair(subnet: "10.231.224")
        defer { pair.close() }
        try pair.startServer()
        var env = ProcessInfo.processInfo.environment
        env["PATH"] = dir + ":" + (env["PATH"] ?? "/usr/bin:/bin")
        let out = try Outcome.run(["ip", "netns", "exec", pair.clientNS.name, AgentBinary.path, "run", "--server", pair.address,
                                             "--token", pair.token, "--test", "udp_bw", "--rate", "2000000", "--duration", "1",
                                             "--warmup", "0.5", "--json"], environment: env)
        #expect(out.status == 0, "\(out.stderr)")
        let j = try #require(out.json)
        let nic = try #require(j["nic"] as? [String: [String: Any]], "\(j)")
        let client = try #require(nic["client"]), server = try #require(nic["server"])
        #expect(client["driver"] as? String == "ena" && client["source"] as? String == "ethtool")
        #expect(client["device"] as? String == pair.clientEnd.device)
        let cd = try #require(client["deltas"] as? [String: Double])
        #expect(cd["bw_out_allowance_exceeded"] == 100 && cd["bw_in_allowance_exceeded"] == 0 && cd["pps_allowance_exceeded"] == 0)
        #expect(cd["queue_0_tx_cnt"] == nil)
        #expect(cd["rx_dropped"] != nil, "the kernel's counters stand beside the driver's")
        #expect(server["device"] as? String == pair.serverEnd.device)
        // Where Debian's ethtool is installed it knows veth (driver `veth`); without it, sysfs alone.
        let systemEthtool = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":")
            .contains { FileManager.default.isExecutableFile(atPath: "\($0)/ethtool") }
        if !systemEthtool { #expect(server["source"] as? String == "sysfs" && server["driver"] as? String == "unknown") }
        let sd = try #require(server["deltas"] as? [String: Double])
        #expect(Set(sd.keys).isSuperset(of: ["rx_dropped", "tx_dropped", "rx_errors", "tx_errors"]))
    }
}
