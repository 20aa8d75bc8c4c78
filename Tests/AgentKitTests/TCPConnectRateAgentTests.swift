import Foundation
import NetNS
import Testing

/// `tcp_crr` between namespaces: a new TCP connection per transaction (connect, request,
/// response, close), counted per second with the percentiles of a transaction's time.
@Suite("Agent connection-rate test", .serialized, .enabled(if: getuid() == 0, "needs root for network namespaces"))
struct TCPConnectRateAgentTests {
    @Test("tcp_crr: hundreds of connections per second on a veth, each transaction timed; the rate agrees with the count")
    func connectionRate() throws {
        let pair = try AgentPair(subnet: "10.231.74")
        defer { pair.close() }
        try pair.startServer()
        let out = try pair.client(["--test", "tcp_crr", "--duration", "2", "--warmup", "0.5", "--json"])
        #expect(out.status == 0, "\(out.stderr)")
        let j = try #require(out.json)
        #expect(j["test"] as? String == "tcp_crr" && j["message_size"] as? Int == 1, "\(j)")
        let rate = try #require(j["connections_per_second"] as? Double, "\(j)")
        let count = try #require(j["transactions"] as? Int), measured = try #require(j["measured_s"] as? Double)
        // A veth between namespaces carries thousands a second on an idle machine; 100 even under heavy load.
        #expect(rate > 100, "\(rate) connections/s")
        #expect(abs(rate - Double(count) / measured) < 0.01 * rate && measured >= 2 && measured < 2.5, "\(j)")
        let t = try #require(j["transaction_us"] as? [String: Double], "\(j)")
        let p50 = try #require(t["p50"]), p99 = try #require(t["p99"])
        #expect(p50 > 0 && p50 <= p99 && p99 <= (t["max"] ?? 0), "\(t)")
        // One transaction at a time: they never overlap, so the mean time is at most the rate's inverse
        // (less by the close and the loop, which are outside a transaction's time: under load over 20 %).
        #expect((t["mean"] ?? 0) * rate / 1e6 > 0 && (t["mean"] ?? 0) * rate / 1e6 <= 1.01, "mean \(t["mean"] ?? 0) µs at \(rate)/s")
        #expect(j["strays"] as? Int == 0)
        // The server is free again for the next test.
        let again = try pair.client(["--test", "tcp_crr", "--duration", "0.5", "--warmup", "0", "--message-size", "1000", "--json"])
        #expect(again.status == 0 && again.json?["message_size"] as? Int == 1000, "\(again.stderr)")
    }
}
