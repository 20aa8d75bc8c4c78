import Syscall

/// A pooled group step (`run --servers … --flows N --send FLOW=ADDR:PORT,…`): `N` data connections,
/// each of which any server of the step takes. The flows go through a balancer of the user's own
/// (HAProxy, nginx, a kernel or cloud load balancer, which picks the server of each itself), or
/// come from several clients at once (this process opens its own; `cloudbench-agent send` on the
/// other clients opens theirs).
///
/// Every server accepted the test first (`GroupBandwidthTest.acceptAll`), each with its own key, and
/// all of them share one pool id (`TestRequest.pool`), which each data connection presents as
/// `DATA <pool> <flow>`. This process asks every server (`COUNT`) which flows reached it until all
/// `N` have landed somewhere: that is where they were put. Servers that got some are started
/// together (`START`: each sends GO and opens its window `warmup` later); the others are let go
/// (`DONE`).
extension GroupBandwidthTest {
    /// How long the flows may take to reach the servers: other clients' senders are started over
    /// SSH beside this process and try again until the servers take them.
    static let landingTimeout = 20.0

    static func landPool(_ o: RunOptions, _ request: TestRequest, _ peers: inout [Peer]) throws {
        guard let pool = request.pool else { return }
        // Each introduced as soon as it is connected: the servers only start on `START`, so nothing
        // needs the flows to arrive together, and a server gives a silent connection 10 s at most.
        var sockets: [Int: Socket] = [:]
        for f in o.ownFlows {
            do {
                let s = try Socket.connect(to: f.to, timeout: o.connectTimeout)
                sockets[f.flow] = s
                try s.writeAll("DATA \(pool) \(f.flow)\n")
            } catch {
                throw AgentError.failed("flow \(f.flow + 1): \(f.to) refused or dropped its connection: \(error)")
            }
        }
        let deadline = Clock.now() + landingTimeout
        var landed: [[Int]] = Array(repeating: [], count: peers.count)
        while true {
            for (i, p) in peers.enumerated() {
                do {
                    try p.session.control.writeAll("COUNT\n")
                    landed[i] = try parseHave(try p.session.control.readLine(maxBytes: 1024, timeout: 5), flows: request.flows)
                } catch {
                    throw AgentError.failed("server \(i + 1) (\(p.address)) did not say which flows reached it: \(error)")
                }
            }
            let all = landed.joined()
            if all.count == request.flows && Set(all).count == all.count { break }
            guard Clock.now() < deadline else {
                let missing = Set(0..<request.flows).subtracting(all).sorted().prefix(8).map { "\($0 + 1)" }.joined(separator: ", ")
                let at = zip(peers, landed).map { "\($0.1.count) at \($0.0.address)" }.joined(separator: ", ")
                let through = Set(o.ownFlows.map(\.to.description)).sorted().joined(separator: ", ")
                throw AgentError.failed("only \(all.count) of \(request.flows) data connections reached a server within \(formatSeconds(landingTimeout)) s "
                                        + "(\(at); missing flow \(missing)); this host's went to \(through): "
                                        + "does every address there forward to the servers' agent port?")
            }
            Clock.sleep(0.01)
        }
        for i in peers.indices {
            peers[i].landed = landed[i]
            peers[i].sockets = landed[i].compactMap { sockets[$0] }
            do { try peers[i].session.control.writeAll(landed[i].isEmpty ? "DONE\n" : "START\n") } catch {
                throw AgentError.failed("server \(i + 1) (\(peers[i].address)): its control connection closed: \(error)")
            }
        }
    }

    /// `HAVE <k> <flow>,<flow>,…` (`-` for none): the flows below `flows` that reached a server.
    static func parseHave(_ line: String?, flows: Int) throws -> [Int] {
        guard let line else { throw AgentError.failed("no answer within 5 s") }
        let words = line.split(separator: " ")
        guard words.count == 3, words[0] == "HAVE", let k = Int(words[1]), (0...flows).contains(k) else {
            throw AgentError.failed(line.hasPrefix("ERR ") ? "server: \(line.dropFirst(4))" : "a malformed answer")
        }
        if k == 0 { return [] }
        let list = words[2].split(separator: ",").prefix(flows + 1).compactMap { Int($0) }
        guard list.count == k, list.allSatisfy({ (0..<flows).contains($0) }) else { throw AgentError.failed("a malformed answer") }
        return list
    }

    /// `flows`: each flow's rate and the server it landed on, in flow order; `backends`: how they
    /// were shared out, with each server's rate.
    static func pooledFields(_ peers: [Peer], active: [Peer], measured m: Measured, flows: Int) -> [(String, JSON)] {
        var rate = [Double](repeating: 0, count: flows)
        var server = [String](repeating: "", count: flows)
        for (p, received) in zip(active, m.receivers) {
            for (flow, r) in received.flowRates where (0..<flows).contains(flow) { rate[flow] = r ?? 0 }
            for flow in p.landed where (0..<flows).contains(flow) { server[flow] = p.address.description }
        }
        let perServer: [JSON] = peers.map { p in
            let i = active.firstIndex { $0.address.description == p.address.description }
            return .object([("server", .string(p.address.description)), ("flows", .array(p.landed.map { .int($0) })),
                            ("bytes_per_second", .double(i.flatMap { m.flowRates[$0] } ?? 0))])
        }
        return [
            ("flows", .array((0..<flows).map { .object([("server", .string(server[$0])), ("bytes_per_second", .double(rate[$0]))]) })),
            ("backends", .array(perServer)),
        ]
    }
}
