import CloudbenchCore

/// The links a group's steps use, each as two hosts and the TCP ports one opens on the other, for
/// the reachability preflight (`PairReachability`): the hub's control connections (and the flows
/// of a step without a middle, and of a through group's direct reference) from every client to
/// every spoke's agent port; through the relay, every client to its ports on the middle and the
/// middle to every backend's agent port. A balancer of the user's own is not probed: no answerer
/// can run there, and the step says so if it refuses.
enum GroupLinks {
    static func links(_ g: HostGroup, agentPort: Int) -> [(pair: Pair, probes: [ReachProbe])] {
        func link(to server: Instance, from client: Instance) -> Pair {
            var p = g.recordPair
            p.server = server
            p.client = client
            return p
        }
        func agent(_ to: Instance, from: Instance) -> [ReachProbe] {
            [ReachProbe(proto: .tcp, port: agentPort, purpose: "the agent port of \(to.testIP) from \(from.testIP)", to: .server)]
        }
        let clients = g.shape == .through ? g.clients : [g.hub]
        var out = clients.flatMap { c in g.spokes.map { (pair: link(to: $0, from: c), probes: agent($0, from: c)) } }
        if let m = g.middle {
            out += clients.map { c in
                (pair: link(to: m, from: c), probes: g.spokes.indices.map {
                    ReachProbe(proto: .tcp, port: g.relayPort(backend: $0, agentPort: agentPort),
                               purpose: "the relay's port on \(m.testIP) for backend \($0 + 1) from \(c.testIP)", to: .server)
                })
            }
            out += g.spokes.map { (pair: link(to: $0, from: m), probes: agent($0, from: m)) }
        }
        return out
    }
}
