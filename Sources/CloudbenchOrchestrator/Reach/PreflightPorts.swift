import CloudbenchCore

/// `cloudbench preflight --ports`: after the host checks, deploy the agent to the ready hosts
/// (as `compare` does) and run each pair's reachability preflight.
public enum PreflightPorts {
    /// `checked` is in `inventory.hosts` order (as `PreflightTarget.all` makes it).
    public static func check(_ inventory: Inventory, checked: [CheckedHost], agents: AgentBinaries,
                             timeout: Double = 5) async -> [ReachReport] {
        let deploy = AgentDeploy(binaries: agents)
        let ready = HostResults()
        await withTaskGroup(of: Void.self) { group in
            for (host, c) in zip(inventory.hosts, checked) {
                guard let shell = c.shell, let facts = c.facts else { continue }
                let endpoint = host.endpoint, sudo = host.ssh.sudo, label = c.row.host
                group.addTask {
                    do { await ready.ready(endpoint, try await deploy.deploy(shell: shell, facts: facts, sudoAllowed: sudo)) }
                    catch { await ready.failed(label, "\(error)") }
                }
            }
        }
        return await PairReachability.checkAll(inventory, hosts: await ready.hosts, timeout: timeout)
    }

    /// One line per pair and group: the ports found open, or each closed one with its rule; then
    /// what was not checked.
    public static func render(_ reports: [ReachReport]) -> String {
        var out = ""
        for r in reports {
            let what = r.isGroup ? "group" : "pair"
            if let why = r.failure {
                out += "\(what) \(r.pair): \(why)\n"
            } else if r.checked.isEmpty {
                out += "\(what) \(r.pair): no port to check (external overlays only)\n"
            } else {
                // A group's links name their hosts in their purpose.
                let ports = r.checked.map { "\($0.proto.rawValue) \($0.port) " + (r.isGroup ? "(\($0.purpose))" : "to the \($0.to.rawValue)") }
                out += "\(what) \(r.pair): open: \(ports.joined(separator: ", "))\n"
            }
            for n in r.notChecked { out += "\(what) \(r.pair): \(n)\n" }
        }
        return out
    }
}

/// `preflight --json --ports`: each pair's ports (docs/json.md).
public struct PreflightPortsDocument: Encodable, Sendable {
    public struct Port: Encodable, Sendable {
        public var proto: String
        public var port: Int
        public var to: String
        public var purpose: String
        public var open: Bool
        public var verdict: String?
        public var message: String?
    }
    public var pair: String?
    public var group: String?
    public var ok: Bool
    public var ports: [Port]
    public var notChecked: [String]

    enum CodingKeys: String, CodingKey { case pair, group, ok, ports, notChecked = "not_checked" }

    public init(_ r: ReachReport) {
        if r.isGroup { group = r.pair } else { pair = r.pair }
        ok = r.ok
        ports = r.checked.map { p in
            let closed = r.closed.first { $0.probe == p }
            return Port(proto: p.proto.rawValue.lowercased(), port: p.port, to: p.to.rawValue, purpose: p.purpose, open: closed == nil,
                        verdict: closed?.verdict, message: closed?.message)
        } + r.closed.filter { c in !r.checked.contains(c.probe) }.map { c in
            Port(proto: c.probe.proto.rawValue.lowercased(), port: c.probe.port, to: c.probe.to.rawValue, purpose: c.probe.purpose,
                 open: false, verdict: c.verdict, message: c.message)
        }
        notChecked = r.notChecked
    }
}
