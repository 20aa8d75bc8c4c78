import Foundation
import NetNS
import Testing

/// tcp_lat on a path of a few milliseconds: the minimum round trips are sized to the time budget.
@Suite("tcp_lat round trips sized to the time budget", .serialized, .enabled(if: getuid() == 0, "needs root for network namespaces"))
struct TCPLatencySizingTests {
    /// A path with ~5.3 ms round trips: 1000-byte messages through 200 kB/s token buckets (one
    /// frame time per round trip, see `tcpLatencyFollowsTheLink`; this kernel has no netem).
    private func slowPair() throws -> AgentPair {
        let pair = try AgentPair(subnet: "10.231.147")
        do {
            try Link.shape(pair.clientEnd, bytesPerSecond: 200_000, burstBytes: 1600)
            try Link.shape(pair.serverEnd, bytesPerSecond: 200_000, burstBytes: 1600)
            try pair.startServer()
        } catch {
            pair.close()
            throw error
        }
        return pair
    }

    @Test("with the default 10,000 round trips (53 s at 5.3 ms) the run ends with its window and reports fewer")
    func fewerRoundTrips() throws {
        let pair = try slowPair()
        defer { pair.close() }
        let started = Date()
        let out = try pair.client(["--test", "tcp_lat", "--duration", "2", "--warmup", "0.2", "--message-size", "1000", "--json"])
        let took = Date().timeIntervalSince(started)
        #expect(out.status == 0, "\(out.stderr)")
        let j = try #require(out.json)
        let trips = try #require(j["round_trips"] as? Double)
        #expect(j["min_round_trips"] as? Double == 10_000)
        // ~375 round trips in 2 s; the agent does not run on for the 9,600 missing.
        #expect(trips > 100 && trips < 10_000, "\(trips)")
        #expect(took < 2.2 + 3, "took \(took) s")
    }

    @Test("a minimum that fits in the extra time is still met")
    func minimumMet() throws {
        let pair = try slowPair()
        defer { pair.close() }
        let started = Date()
        // ~190 round trips in the 1 s window; 600 need ~2.2 s more, well within the allowance.
        let out = try pair.client(["--test", "tcp_lat", "--duration", "1", "--warmup", "0.2", "--message-size", "1000",
                                   "--count", "600", "--json"])
        let took = Date().timeIntervalSince(started)
        #expect(out.status == 0, "\(out.stderr)")
        let trips = try #require(out.json?["round_trips"] as? Double)
        #expect(trips >= 600, "\(trips)")
        #expect(took < 1.2 + 10 + 3, "took \(took) s")
    }
}
