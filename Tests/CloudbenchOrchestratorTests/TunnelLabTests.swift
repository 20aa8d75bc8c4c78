import Foundation
import Testing
import NetNS

/// The user-space tunnel's counts and CPU in a `udp` path cell's record, on the lab
/// (`Fixtures/tunnel-lab.yaml`): both agents sample their host's tunnel over the test.
@Suite("tunnel counters on the lab", .enabled(if: getuid() == 0, "needs root for the lab"), .serialized)
struct TunnelLabTests {
    @Test("udp path cells carry each side's tunnel counts and tunnel CPU, tcp_lat too; nothing is left behind")
    func tunnelCountsInTheRecord() throws {
        let lab = try LabRun(tag: "t", third: 212, profile: "tunnel-lab")
        defer { lab.down() }
        let r = try lab.compare(["--parallel", "1"])
        #expect(r.status == 0, "\(r.stdout)\n\(r.stderr)")
        let records = try lab.records()
        #expect(records.count == 2 && records.allSatisfy { $0["status"] as? String == "ok" && $0["path"] as? String == "udp" }, "\(records)")
        let rec = try #require(records.first { $0["test"] as? String == "tcp_bw" }, "no tcp_bw record")
        let detail = rec["detail"] as? [String: Any] ?? [:]
        let tunnel = try #require(detail["tunnel"] as? [String: [String: Any]], "no detail.tunnel: \(detail.keys.sorted())")
        let cpu = detail["cpu"] as? [String: [String: Any]] ?? [:]
        for side in ["client", "server"] {
            let t = try #require(tunnel[side], "no tunnel.\(side): \(tunnel)")
            // The test's own bytes crossed the tunnel both ways (data one way, ACKs the other).
            #expect((t["packets_out"] as? Int ?? 0) > 100 && (t["packets_in"] as? Int ?? 0) > 100, "\(side): \(t)")
            #expect(t["dropped_bad_tag"] as? Int == 0 && t["dropped_replay"] as? Int == 0 && t["dropped_wrong_source"] as? Int == 0,
                    "\(side): \(t)")
            let seconds = try #require(cpu[side]?["tunnel_cpu_s"] as? Double, "no cpu.\(side).tunnel_cpu_s: \(cpu[side] ?? [:])")
            // Forwarding ~50 MB/s through user space costs CPU; never more than the window on two cores.
            #expect(seconds > 0 && seconds < 2 * 1.5 * 2, "\(side): \(seconds) s")
            #expect(t["cpu_s"] as? Double == seconds)
        }
        // The sender's tunnel carried the data: more packets out on the client than in.
        #expect((tunnel["client"]?["packets_out"] as? Int ?? 0) > (tunnel["client"]?["packets_in"] as? Int ?? 0))
        // tcp_lat has no host counters, but its round trips crossed the tunnel too.
        let lat = try #require(records.first { $0["test"] as? String == "tcp_lat" }, "no tcp_lat record")
        let latDetail = lat["detail"] as? [String: Any] ?? [:]
        let latTunnel = latDetail["tunnel"] as? [String: [String: Any]] ?? [:]
        for side in ["client", "server"] {
            #expect((latTunnel[side]?["packets_in"] as? Int ?? 0) > 10, "tcp_lat \(side): \(latTunnel)")
            #expect(((latDetail["cpu"] as? [String: [String: Any]])?[side]?["tunnel_cpu_s"] as? Double).map { $0 >= 0 } == true)
        }
        print("tunnel lab: client \(tunnel["client"] ?? [:]), server \(tunnel["server"] ?? [:])")
        let report = try String(contentsOfFile: lab.report, encoding: .utf8)
        #expect(!report.contains("the user-space tunnel dropped"), "no drops, no line")
        #expect(lab.leftovers() == [])
    }
}
