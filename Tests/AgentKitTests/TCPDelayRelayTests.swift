import Foundation
import NetNS
import Testing

/// tcp_lat across a path with added delay: a user-space relay in the client's namespace holds
/// every byte 2.5 ms in each direction (this kernel has no netem), so each round trip takes at
/// least 5 ms more than the link's own.
@Suite("tcp_lat across a delay relay", .serialized, .enabled(if: getuid() == 0, "needs root for network namespaces"))
struct TCPDelayRelayTests {
    static let relayScript = AgentBinary.packageRoot + "/Tests/AgentKitTests/Fixtures/delay_relay.py"
    static let delayMs = 2.5
    static let relayPort = 15201

    /// The agent client in the client's namespace against `server` (`HOST:PORT`).
    func client(_ pair: AgentPair, server: String) throws -> Outcome {
        try Outcome.run(["ip", "netns", "exec", pair.clientNS.name, AgentBinary.path, "run", "--server", server, "--token", pair.token,
                         "--test", "tcp_lat", "--duration", "2", "--warmup", "0.2", "--json"])
    }

    @Test("2.5 ms added each way: no round trip under 5 ms, the median within 2 ms of it, latency_us about 2.5 ms; the run ends with its window")
    func addedDelay() throws {
        let pair = try AgentPair(subnet: "10.231.148")
        defer { pair.close() }
        try pair.startServer()
        let log = NSTemporaryDirectory() + "cb-relay-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: log) }
        let handle = try #require(FileHandle(forWritingAtPath: log))
        let relay = try pair.clientNS.spawn(["python3", Self.relayScript, "127.0.0.1", "\(Self.relayPort)", pair.serverEnd.address,
                                             "\(pair.port)", "\(Self.delayMs)", "120"], stdout: handle, stderr: handle)
        try? handle.close()
        defer { relay.stop(grace: 0) }
        let until = Date().addingTimeInterval(10)
        while Date() < until && relay.isRunning && !((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains("ready") {
            usleep(20_000)
        }
        #expect(((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains("ready"), "the relay did not start")

        // The link alone: well under a millisecond a round trip.
        let direct = try client(pair, server: pair.address)
        #expect(direct.status == 0, "\(direct.stderr)")
        let directP50 = try #require((direct.json?["rtt_us"] as? [String: Any])?["p50"] as? Double)
        #expect(directP50 < 1000, "direct p50 \(directP50) µs")

        let started = Date()
        let out = try client(pair, server: "127.0.0.1:\(Self.relayPort)")
        let took = Date().timeIntervalSince(started)
        #expect(out.status == 0, "\(out.stderr)")
        let j = try #require(out.json)
        let rtt = try #require(j["rtt_us"] as? [String: Any])
        let added = 2 * Self.delayMs * 1000
        let minimum = try #require(rtt["min"] as? Double), p50 = try #require(rtt["p50"] as? Double)
        let latency = try #require(j["latency_us"] as? Double)
        // The relay never forwards early: no round trip is shorter than the delay it adds.
        #expect(minimum >= added, "min \(minimum) µs")
        // Bound: the relay's own thread wake-ups (Python, a loaded 2-core machine) add at most 2 ms.
        #expect(p50 <= added + directP50 + 2000, "p50 \(p50) µs for \(added) µs added")
        #expect(latency >= added / 2 && latency <= (added + directP50) / 2 + 1000, "latency_us \(latency)")
        print("delay relay: \(added) µs added; round trip p50 \(p50) µs (direct \(directP50) µs), latency_us \(latency)")
        // About 2 s / 5 ms = 400 round trips, not the 10,000 default: the run ends with its window.
        let trips = try #require(j["round_trips"] as? Double)
        #expect(trips > 100 && trips < 10_000, "\(trips) round trips")
        #expect(took < 2.2 + 3, "took \(took) s")
    }
}
