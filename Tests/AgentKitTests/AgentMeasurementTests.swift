import Foundation
import NetNS
import Testing

/// The measurements themselves, on real sockets between namespaces, against tbf ground truth.
@Suite("Agent measurements", .serialized, .enabled(if: getuid() == 0, "needs root for network namespaces"))
struct AgentMeasurementTests {
    /// Wire rates (bytes/s incl. Ethernet header) between 1 MB/s and 200 MB/s.
    @Test("tcp_bw is within 2 % of tbf goodput R × 1448/1514", arguments: [2_000_000, 25_000_000, 150_000_000])
    func tcpBandwidthAccuracy(wireRate: Int) throws {
        let pair = try AgentPair(subnet: "10.231.11")
        defer { pair.close() }
        #expect(!pair.clientNS.hasDefaultRoute())
        try Link.shape(pair.clientEnd, bytesPerSecond: wireRate)
        try pair.startServer()
        // The default 2 s warm-up: at 2 MB/s, recovering from slow start's overshoot into the
        // tbf queue (drops, sometimes a retransmission timeout) can take longer than 1 s.
        let out = try pair.client(["--test", "tcp_bw", "--duration", "4", "--warmup", "2", "--json"])
        #expect(out.status == 0, "\(out.stderr)")
        let j = try #require(out.json)
        let measured = try #require(j["receiver_bytes_per_second"] as? Double)
        let expected = Double(wireRate) * 1448 / 1514
        #expect(abs(measured / expected - 1) < 0.02, "measured \(measured) B/s, expected \(expected) B/s: \(out.stdout)")
        // Each 1 s interval is steady too: no burst from the warm-up leaks into the window.
        let intervals = try #require(j["intervals"] as? [[String: Any]])
        #expect(intervals.count == 4)
        for i in intervals {
            let b = try #require(i["bytes"] as? Double)
            #expect(abs(b / expected - 1) < 0.05, "interval \(i)")
        }
        #expect(j["mss"] as? Double == 1448)
        #expect(j["mtu"] as? Double == 1500)
        #expect(j["schema"] as? String == "cloudbench-agent/1")
    }

    @Test("tcp_bw with 4 streams, server sending: byte counts of both sides agree")
    func tcpBandwidthReverseStreams() throws {
        let pair = try AgentPair(subnet: "10.231.12")
        defer { pair.close() }
        try Link.shape(pair.serverEnd, bytesPerSecond: 20_000_000)
        try pair.startServer()
        let out = try pair.client(["--test", "tcp_bw", "--duration", "2", "--warmup", "1", "--streams", "4",
                                   "--reverse", "--interval", "0.5", "--json"])
        #expect(out.status == 0, "\(out.stderr)")
        let j = try #require(out.json)
        #expect(j["streams"] as? Double == 4)
        #expect(j["direction"] as? String == "server_to_client")
        #expect((j["intervals"] as? [Any])?.count == 4)
        let measured = try #require(j["receiver_bytes_per_second"] as? Double)
        #expect(abs(measured / (20_000_000.0 * 1448 / 1514) - 1) < 0.02, "\(measured)")
        let sent = try #require(j["sender_bytes"] as? Double), received = try #require(j["receiver_bytes"] as? Double)
        // The two sides count the same window on their own clocks: a small skew, never a gap.
        #expect(abs(sent / received - 1) < 0.05)
        let cpu = try #require(j["cpu"] as? [String: Any])
        #expect((cpu["server"] as? [String: Any])?["percent"] is Double)
    }

    @Test("tcp_bw --bidir measures both directions at the same time")
    func tcpBandwidthBidirectional() throws {
        let pair = try AgentPair(subnet: "10.231.18")
        defer { pair.close() }
        try Link.shape(pair.clientEnd, bytesPerSecond: 8_000_000)
        try Link.shape(pair.serverEnd, bytesPerSecond: 8_000_000)
        try pair.startServer()
        let started = Date()
        let out = try pair.client(["--test", "tcp_bw", "--bidir", "--streams", "2", "--duration", "3", "--warmup", "1",
                                   "--json"])
        let took = Date().timeIntervalSince(started)
        #expect(out.status == 0, "\(out.stderr)")
        let j = try #require(out.json)
        #expect(j["direction"] as? String == "bidirectional")
        let back = try #require(j["reverse"] as? [String: Any])
        let goodput = 8_000_000.0 * 1448 / 1514
        // Each link also carries the other direction's ACKs, queued behind its data (tbf is
        // one FIFO), so neither direction reaches the one-way goodput; both must flow, though,
        // in every interval, and together they cannot exceed the two links.
        let up = try #require(j["receiver_bytes_per_second"] as? Double)
        let down = try #require(back["receiver_bytes_per_second"] as? Double)
        #expect(up > 0.3 * goodput && up < 1.01 * goodput, "\(up)")
        #expect(down > 0.3 * goodput && down < 1.01 * goodput, "\(down)")
        for intervals in [j["intervals"], back["intervals"]] {
            let list = try #require(intervals as? [[String: Any]])
            #expect(list.count == 3 && list.allSatisfy { ($0["bytes"] as? Double ?? 0) > 0.1 * goodput })
        }
        #expect(abs((j["sum_receiver_bytes_per_second"] as? Double ?? 0) - up - down) < 1)
        // One run, not two in a row: the warm-up (until the rate settled, at least 1 s) and the
        // 3 s window once, plus connecting and the result.
        let warm = max(j["warmup_taken_s"] as? Double ?? 0, back["warmup_taken_s"] as? Double ?? 0)
        #expect(warm >= 1)
        #expect(took < warm + 3 + 3, "took \(took) s")
    }

    @Test("tcp_lat: qperf's latency, exact ordered percentiles, at least 10,000 round trips")
    func tcpLatency() throws {
        let pair = try AgentPair(subnet: "10.231.13")
        defer { pair.close() }
        try pair.startServer()
        let out = try pair.client(["--test", "tcp_lat", "--duration", "1", "--warmup", "0.5", "--json"])
        #expect(out.status == 0, "\(out.stderr)")
        let j = try #require(out.json)
        let trips = try #require(j["round_trips"] as? Double)
        #expect(trips >= 10_000)
        let rtt = try #require(j["rtt_us"] as? [String: Double])
        let order = ["min", "p50", "p90", "p99", "p999", "max"].compactMap { rtt[$0] }
        #expect(order.count == 6 && order == order.sorted() && order[0] > 0)
        let latency = try #require(j["latency_us"] as? Double)
        #expect(abs(latency - rtt["mean"]! / 2) < 0.01)
        // A veth round trip is microseconds; a millisecond mean would mean the agent is the bottleneck.
        #expect(latency < 1000)
    }

    @Test("tcp_lat sees the delay a shaped link adds")
    func tcpLatencyFollowsTheLink() throws {
        let pair = try AgentPair(subnet: "10.231.14")
        defer { pair.close() }
        // 1000-byte messages (1066 bytes on the wire) through 200 kB/s token buckets: each side
        // may send one frame per 5.33 ms of refill, and both refill at once, so a round trip
        // settles at one frame time.
        try Link.shape(pair.clientEnd, bytesPerSecond: 200_000, burstBytes: 1600)
        try Link.shape(pair.serverEnd, bytesPerSecond: 200_000, burstBytes: 1600)
        try pair.startServer()
        let out = try pair.client(["--test", "tcp_lat", "--duration", "1", "--warmup", "0.2", "--message-size", "1000",
                                   "--count", "50", "--json"])
        #expect(out.status == 0, "\(out.stderr)")
        let rtt = try #require(out.json?["rtt_us"] as? [String: Double])
        let frameTime = 1066.0 / 200_000 * 1e6
        #expect(abs(rtt["p50"]! / frameTime - 1) < 0.05, "\(rtt)")
    }

    @Test("udp_bw meets its target on a free link and reports the loss on a narrow one")
    func udpBandwidth() throws {
        let pair = try AgentPair(subnet: "10.231.15")
        defer { pair.close() }
        try pair.startServer()
        let free = try pair.client(["--test", "udp_bw", "--duration", "1.5", "--warmup", "0.5", "--rate", "5000000", "--json"])
        #expect(free.status == 0, "\(free.stderr)")
        let f = try #require(free.json)
        #expect(abs((f["receiver_bytes_per_second"] as? Double ?? 0) / 5_000_000 - 1) < 0.03, "\(f)")
        #expect((f["loss_percent"] as? Double ?? 100) < 1)

        try Link.shape(pair.clientEnd, bytesPerSecond: 2_000_000)
        let narrow = try pair.client(["--test", "udp_bw", "--duration", "1.5", "--warmup", "0.5", "--rate", "3000000", "--json"])
        #expect(narrow.status == 0, "\(narrow.stderr)")
        let n = try #require(narrow.json)
        let goodput = 2_000_000.0 * 1472 / 1514  // 1472-byte datagrams in 1514-byte frames
        #expect(abs((n["receiver_bytes_per_second"] as? Double ?? 0) / goodput - 1) < 0.03, "\(n)")
        let loss = try #require(n["loss_percent"] as? Double)
        #expect(abs(loss - (1 - goodput / 3_000_000) * 100) < 4, "loss \(loss) %")
    }

    @Test("udp_bw --reverse: the server sends to the client")
    func udpReverse() throws {
        let pair = try AgentPair(subnet: "10.231.16")
        defer { pair.close() }
        try pair.startServer()
        let out = try pair.client(["--test", "udp_bw", "--duration", "1", "--warmup", "0.3", "--rate", "4000000",
                                   "--reverse", "--json"])
        #expect(out.status == 0, "\(out.stderr)")
        let j = try #require(out.json)
        #expect(j["direction"] as? String == "server_to_client")
        #expect(abs((j["receiver_bytes_per_second"] as? Double ?? 0) / 4_000_000 - 1) < 0.03, "\(j)")
    }

    @Test("without libcurl, http says so in one line and the other tests still run",
          .enabled(if: FileManager.default.fileExists(atPath: "/usr/lib/x86_64-linux-gnu/libcurl.so.4")))
    func httpWithoutLibcurl() throws {
        let pair = try AgentPair(subnet: "10.231.19")
        defer { pair.close() }
        try pair.startServer()
        // A private mount namespace where libcurl.so.4 reads as an empty file; the host's
        // library is untouched and the mount disappears with the process.
        func hidden(_ test: [String]) throws -> Outcome {
            let agent = [AgentBinary.path, "run", "--server", pair.address, "--token", pair.token] + test
            return try Outcome.run(["ip", "netns", "exec", pair.clientNS.name, "unshare", "-m", "sh", "-c",
                                    "mount --bind /dev/null /usr/lib/x86_64-linux-gnu/libcurl.so.4 && exec \"$@\"", "sh"] + agent)
        }
        let http = try hidden(["--test", "http", "--size", "1000", "--count", "2", "--json"])
        #expect(http.status == 1)
        #expect(http.stderr.hasPrefix("cloudbench-agent: the http test needs libcurl (libcurl.so.4), which this host does not have"),
                "\(http.stderr)")
        #expect(http.stderr.split(separator: "\n").count == 1)
        let lat = try hidden(["--test", "tcp_lat", "--duration", "0.3", "--warmup", "0", "--count", "100", "--json"])
        #expect(lat.status == 0, "\(lat.stderr)")
        #expect(lat.json?["latency_us"] is Double)
    }

    @Test("http: both modes fetch every object; a new connection pays a connect, a reused one does not",
          .enabled(if: FileManager.default.fileExists(atPath: "/usr/lib/x86_64-linux-gnu/libcurl.so.4")
                      || FileManager.default.fileExists(atPath: "/usr/lib/aarch64-linux-gnu/libcurl.so.4")))
    func http() throws {
        let pair = try AgentPair(subnet: "10.231.17")
        defer { pair.close() }
        // 200 KB at 2 MB/s goodput takes about 100 ms: the timers must see the link.
        try Link.shape(pair.serverEnd, bytesPerSecond: Link.wireRate(forGoodput: 2_000_000))
        try pair.startServer()
        let out = try pair.client(["--test", "http", "--size", "200000", "--count", "5", "--json"])
        #expect(out.status == 0, "\(out.stderr)")
        let j = try #require(out.json)
        for mode in ["reuse", "new_connection"] {
            let m = try #require(j[mode] as? [String: Any])
            #expect(m["fetches"] as? Double == 5)
            let total = try #require(m["total_us"] as? [String: Double])
            #expect(total["p50"]! > 80_000 && total["p50"]! < 200_000, "\(mode) \(total)")
            let first = try #require(m["first_byte_us"] as? [String: Double])
            #expect(first["p50"]! < total["p50"]!)
        }
        let fresh = try #require((j["new_connection"] as? [String: Any])?["connect_us"] as? [String: Double])
        let reused = try #require((j["reuse"] as? [String: Any])?["connect_us"] as? [String: Double])
        #expect(fresh["min"]! > 0)
        #expect(reused["p50"]! == 0)
    }
}
