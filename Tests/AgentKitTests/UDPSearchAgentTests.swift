import Foundation
import NetNS
import Testing

/// The agent's issue-17 figures on real sockets between namespaces: RFC 3550 jitter, the UDP rate
/// search against a tbf link's goodput, and both sides' /proc/stat CPU on every bandwidth test.
@Suite("Agent jitter, rate search and host CPU", .serialized, .enabled(if: getuid() == 0, "needs root for network namespaces"))
struct UDPSearchAgentTests {
    @Test("udp_bw --rate-search finds the highest rate with loss under 1 % within 10 % below a 10 MB/s link's goodput")
    func rateSearch() throws {
        let pair = try AgentPair(subnet: "10.231.47")
        defer { pair.close() }
        // Client → server through the client's end: 10.4 MB/s on the wire, 10.1 MB/s of 1472-byte datagrams.
        try Link.shape(pair.clientEnd, bytesPerSecond: 10_400_000)
        try pair.startServer()
        let started = Date()
        let out = try pair.client(["--test", "udp_bw", "--duration", "4", "--warmup", "1", "--rate-search", "--json"])
        let took = Date().timeIntervalSince(started)
        #expect(out.status == 0, "\(out.stderr)")
        let j = try #require(out.json)
        let goodput = 10_400_000.0 * 1472 / 1514
        let found = try #require(j["searched_rate_bytes_per_second"] as? Double, "\(j)")
        // Above goodput by at most 3 %: a probe of ~0.6 s also carries the shaper's bucket (tbf burst), and on
        // this lab the sender's own tbf paces it, so the answer is its sent rate (seen 10.33 MB/s on 10.11).
        #expect(found >= 0.9 * goodput && found <= goodput * 1.03, "found \(found) B/s, goodput \(goodput)")
        #expect(j["udp_rate"] as? String == "search" && (j["loss_percent"] as? Double ?? 100) < 1)
        let probes = try #require(j["search"] as? [[String: Any]])
        #expect(probes.count >= 2 && probes.count <= 7, "\(probes)")
        // Within the cell's time (5 s), give or take the probes' start and drain.
        #expect(took < 5 + 7 * 0.8, "the search took \(took) s")
    }

    @Test("udp_bw records RFC 3550 jitter; tcp_bw and udp_bw record both sides' CPU per GB from /proc/stat")
    func jitterAndCPU() throws {
        let pair = try AgentPair(subnet: "10.231.48")
        defer { pair.close() }
        try Link.shape(pair.clientEnd, bytesPerSecond: 20_000_000)
        try pair.startServer()
        let udp = try pair.client(["--test", "udp_bw", "--duration", "1", "--warmup", "0.3", "--rate", "5000000", "--json"])
        #expect(udp.status == 0, "\(udp.stderr)")
        let u = try #require(udp.json)
        let jitter = try #require(u["jitter_us"] as? Double, "\(u)")
        // Paced datagrams on an uncongested link: microseconds to a millisecond, never seconds.
        #expect(jitter >= 0 && jitter < 5000, "jitter \(jitter) µs")
        for (name, j) in [("udp_bw", u), ("tcp_bw", try #require(try pair.client(["--test", "tcp_bw", "--duration", "1", "--warmup", "0.5", "--json"]).json))] {
            let cpu = try #require(j["cpu"] as? [String: [String: Any]], "\(name): \(j)")
            for side in ["client", "server"] {
                let s = try #require(cpu[side], "\(name) \(side)")
                #expect((s["cpu_seconds_per_gigabyte"] as? Double ?? 0) > 0, "\(name) \(side): \(s)")
                #expect((s["softirq_percent"] as? Double).map { (0...100).contains($0) } == true)
                #expect((s["steal_percent"] as? Double).map { (0...100).contains($0) } == true)
                #expect((s["window_s"] as? Double ?? 0) >= 1, "\(name) \(side) window: \(s)")
            }
        }
        // tcp_lat and http are not bandwidth tests: no host window.
        let lat = try #require(try pair.client(["--test", "tcp_lat", "--duration", "0.5", "--warmup", "0", "--json"]).json)
        #expect(((lat["cpu"] as? [String: [String: Any]])?["client"]?["cpu_seconds_per_gigabyte"]) == nil)
    }
}
