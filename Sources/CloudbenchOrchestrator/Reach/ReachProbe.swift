import CloudbenchCore

/// One port a pair's run needs open, in one direction.
public struct ReachProbe: Sendable, Equatable {
    public var proto: FirewallRule.Proto
    public var port: Int
    /// What needs it ("the agent port", "the vxlan path").
    public var purpose: String
    /// The host that must accept it; the other one sends.
    public var to: Instance.Role

    public init(proto: FirewallRule.Proto, port: Int, purpose: String, to: Instance.Role) {
        self.proto = proto
        self.port = port
        self.purpose = purpose
        self.to = to
    }

    /// What `pair` needs across the underlay before any of its paths exists: the agent's port on
    /// the server (TCP, and UDP for `udp_bw`) when it measures the host path or the docker path
    /// (which publishes that port on the test IP), and each built-in overlay's UDP port in both
    /// directions (a tunnel carries the replies back). External overlays are the user's to open;
    /// nothing is probed for them.
    public static func needed(by pair: Pair, agentPort: Int) -> [ReachProbe] {
        var out: [ReachProbe] = []
        if pair.paths.contains(.host) || pair.paths.contains(.docker) {
            out.append(ReachProbe(proto: .tcp, port: agentPort, purpose: "the agent port", to: .server))
            if let udp = pair.tests.first(where: \.isUDP) {
                out.append(ReachProbe(proto: .udp, port: agentPort, purpose: "the agent port (\(udp.rawValue))", to: .server))
            }
        }
        for (path, port) in [(PathKind.vxlan, RemoteLayout.vxlanPort), (.udp, RemoteLayout.tunnelPort)] where pair.paths.contains(path) {
            for to in [Instance.Role.server, .client] {
                out.append(ReachProbe(proto: .udp, port: port, purpose: "the \(path.name) path", to: to))
            }
        }
        return out
    }
}
