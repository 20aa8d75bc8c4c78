import Foundation
import Testing
import NetNS

/// Issue 24 on the lab (`Fixtures/pps-lab.yaml`): a pair capped at 20,000 packets per second on
/// each instance's egress (nftables), searched by `udp_pps`, its drops read through the lab's
/// stand-in `ethtool` as ENA's `pps_allowance_exceeded`, and named in the report.
@Suite("packet-rate limit on the lab", .enabled(if: getuid() == 0, "needs root for the lab"), .serialized)
struct PacketRateLabTests {
    @Test("udp_pps search finds a 20,000 packets/s limit within 5 %; the report names the packet-rate allowance")
    func packetRateLimitOnTheLab() throws {
        let lab = try LabRun(tag: "p", third: 230, profile: "pps-lab")
        defer { lab.down() }
        let r = try lab.compare(["--parallel", "1"])
        #expect(r.status == 0, "\(r.stdout)\n\(r.stderr)")
        let records = try lab.records()
        #expect(records.count == 1, "\(records.map { $0["id"] ?? "" })")
        let rec = try #require(records.first)
        #expect(rec["status"] as? String == "ok" && rec["test"] as? String == "udp_pps", "\(rec)")
        #expect(rec["unit"] as? String == "pps")
        let detail = try #require(rec["detail"] as? [String: Any])
        let found = try #require(detail["searched_rate_packets_per_second"] as? Double, "\(detail)")
        #expect(abs(found - 20_000) / 20_000 <= 0.05, "searched \(found) packets/s under a 20,000/s limit: \(detail["search"] ?? "")")
        #expect(detail["message_size"] as? Int == 64)
        // The client sent over the limit in the probes above it: its stand-in counters say so.
        let nic = try #require(detail["nic"] as? [String: [String: Any]], "\(detail)")
        let client = try #require(nic["client"])
        #expect(client["driver"] as? String == "ena", "\(client)")
        let pps = (client["deltas"] as? [String: Double])?["pps_allowance_exceeded"] ?? 0
        #expect(pps > 0, "\(client)")
        let cpu = detail["cpu"] as? [String: [String: Any]]
        #expect(cpu?["client"]?["steal_percent"] != nil && cpu?["server"]?["steal_percent"] != nil, "\(cpu ?? [:])")
        print("pps lab: search found \(found) packets/s of a 20,000/s limit; client pps_allowance_exceeded +\(Int(pps))")

        let report = try String(contentsOfFile: lab.report, encoding: .utf8)
        #expect(report.contains("## UDP packet rate (`udp_pps`)"), "\(report)")
        #expect(report.contains("shaped by the packet-rate allowance") && report.contains("on the client"), "\(report)")
        #expect(lab.leftovers() == [])
    }
}
