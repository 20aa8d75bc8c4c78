import Foundation

/// `groups:` of an inventory (`HostGroup`): each group's shape, type, hosts and sweep, every
/// problem with its position.
extension InventoryLoader {
    /// Groups measure at most this many hosts at once: every flow of a step is a thread and a
    /// connection on the hub's agent.
    public static let groupSpokes = 1...64

    func readGroups(_ top: MappingReader, ssh: SSHSettings, run: RunSettings, baseDir: String,
                    pairNames: [String: SourceLocation], sink: DiagnosticSink) -> [HostGroup] {
        guard let node = top.value("groups") else { return [] }
        guard let list = node.sequence else {
            sink.add(top.doc.location(node), "'groups' must be a list of groups, each starting with '- name:'")
            return []
        }
        if list.isEmpty { sink.add(top.doc.location(node), "'groups' is empty; list a group or leave 'groups' out") }
        var groups: [HostGroup] = []
        var names = pairNames
        for item in list.prefix(1000) {
            guard let r = MappingReader(item, in: top.doc, context: "a group", sink: sink) else { continue }
            if let g = readGroup(r, ssh: ssh, run: run, baseDir: baseDir, sink: sink) {
                if let first = names[g.name] {
                    sink.add(r.keyLocation("name"), "the name '\(g.name)' is already used at line \(first.line); pair and group names must be unique")
                } else {
                    names[g.name] = r.keyLocation("name")
                    groups.append(g)
                }
            }
            r.finish()
        }
        if list.count > 1000 { sink.add(top.doc.location(list[1000]), "more than 1000 groups; split the inventory") }
        return groups
    }

    /// `middle: { address: IP, port: P, external: true }`: a balancer the user runs, reached by the
    /// client at that address; cloudbench does not log in there.
    private func readBalancer(_ r: MappingReader, sink: DiagnosticSink) -> HostGroup.Balancer? {
        let address = r.string("address", required: true)
        let port = r.int("port", range: 1...65535)
        if port == nil && r.value("port") == nil {
            sink.add(r.keyLocation("external"), "an external middle needs 'port': the TCP port it takes the flows on and forwards to the backends' agent port")
        }
        for key in ["user", "identity", "identity_passphrase_env", "passphrase", "password", "jump", "known_hosts", "sudo", "test_ip", "zone", "overlays"] where r.value(key) != nil {
            sink.add(r.keyLocation(key), "an external middle is not logged in to, so it has no '\(key)'; give its 'address' and 'port' only")
        }
        guard let (a, loc) = address else { return nil }
        guard NetworkAddress.isIP(a) else {
            sink.add(loc, "give the external middle's IP address, not '\(a)' (the client connects to it as given; resolve a name first, e.g. dig +short NAME)")
            return nil
        }
        guard let port else { return nil }
        return HostGroup.Balancer(address: a, port: port)
    }

    private func readGroup(_ r: MappingReader, ssh: SSHSettings, run: RunSettings, baseDir: String, sink: DiagnosticSink) -> HostGroup? {
        let before = sink.diagnostics.count
        let name = r.string("name", required: true)
        if let (n, loc) = name, !Self.isSafeName(n) {
            sink.add(loc, "group name '\(n)' may use letters, digits, '.', '_' and '-' only")
        }
        let label = name?.0 ?? "?"
        var shape: HostGroup.Shape?
        if let (s, loc) = r.string("shape", required: true) {
            shape = HostGroup.Shape(rawValue: s)
            if shape == nil {
                let names = HostGroup.Shape.allCases.map(\.rawValue)
                sink.add(loc, "unknown shape '\(s)'" + Suggestion.hint(for: s, in: names, otherwise: "shapes are \(names.joined(separator: ", "))"))
            }
        }
        let instanceType = InstanceTypeReference.read(r, catalog: catalog, sink: sink)
        let region = r.string("region")?.0 ?? ""
        var price: Money?
        if let (p, loc) = r.string("price") { price = parsePrice(p, at: loc, sink: sink) }
        var priceAsOf: String?
        if let (d, loc) = r.string("price_as_of") {
            if Self.isDate(d) { priceAsOf = d } else { sink.add(loc, "bad date '\(d)' for 'price_as_of'; write it as YYYY-MM-DD") }
        }
        let repetitions = r.int("repetitions", range: Limits.repetitions) ?? run.repetitions
        let keys = ["server", "servers", "client", "clients", "middle", "backends"]
        guard let shape else {
            // Without a shape, the hosts cannot be read: their keys are not the problem.
            for key in keys + ["sweep"] { _ = r.value(key) }
            return nil
        }

        // The keys of the other shapes, named as such.
        let own = Set(shape.keys)
        for key in keys where !own.contains(key) && r.value(key) != nil {
            sink.add(r.keyLocation(key), "a \(shape.rawValue) group has no '\(key)'; it takes " + own.sorted().map { "'\($0)'" }.joined(separator: ", "))
        }

        func host(_ key: String, role: Instance.Role) -> Instance? {
            guard let node = r.value(key) else { return nil }
            guard let hr = MappingReader(node, in: r.doc, context: "the \(key) of group '\(label)'", sink: sink) else { return nil }
            defer { hr.finish() }
            return readHost(hr, role: role, ssh: ssh, baseDir: baseDir, sink: sink)
        }
        func hostList(_ key: String, role: Instance.Role) -> [(Instance, SourceLocation)]? {
            guard let node = r.value(key) else {
                sink.add(r.keyLocation("name"), "group '\(label)' has no '\(key)'; list its hosts like '\(key): [{ address: 10.0.0.5 }, …]'")
                return nil
            }
            guard let items = node.sequence, !items.isEmpty else {
                sink.add(r.doc.location(node), "'\(key)' must be a list of hosts, like '\(key): [{ address: 10.0.0.5 }, …]'")
                return nil
            }
            if items.count > Self.groupSpokes.upperBound {
                sink.add(r.doc.location(items[Self.groupSpokes.upperBound]), "at most \(Self.groupSpokes.upperBound) \(key) in a group")
                return nil
            }
            var out: [(Instance, SourceLocation)] = []
            for item in items {
                guard let hr = MappingReader(item, in: r.doc, context: "a host of '\(key)' in group '\(label)'", sink: sink) else { continue }
                if let h = readHost(hr, role: role, ssh: ssh, baseDir: baseDir, sink: sink) { out.append((h, hr.keyLocation("address"))) }
                hr.finish()
            }
            return out
        }

        var hub: Instance?
        var spokes: [(Instance, SourceLocation)]?
        var middle: Instance?
        var otherClients: [(Instance, SourceLocation)] = []
        var balancer: HostGroup.Balancer?
        switch shape {
        case .fanIn:
            hub = host("server", role: .server)
            if hub == nil && r.value("server") == nil { sink.add(r.keyLocation("name"), "group '\(label)' has no 'server'; give the host every client sends to") }
            spokes = hostList("clients", role: .client)
        case .fanOut:
            hub = host("client", role: .client)
            if hub == nil && r.value("client") == nil { sink.add(r.keyLocation("name"), "group '\(label)' has no 'client'; give the host that sends to every server") }
            spokes = hostList("servers", role: .server)
        case .through:
            if let clients = hostList("clients", role: .client) {
                hub = clients.first?.0
                otherClients = Array(clients.dropFirst())
            }
            if let node = r.value("middle"), let mr = MappingReader(node, in: r.doc, context: "the middle of group '\(label)'", sink: sink) {
                if mr.bool("external") == true {
                    balancer = readBalancer(mr, sink: sink)
                } else {
                    middle = readHost(mr, role: .server, ssh: ssh, baseDir: baseDir, sink: sink)
                }
                mr.finish()
            } else if r.value("middle") == nil {
                sink.add(r.keyLocation("name"), "group '\(label)' has no 'middle'; give the host every flow crosses")
            }
            spokes = hostList("backends", role: .server)
        }

        // No host twice within the group: a step's flows would share it.
        if let hub, let spokes {
            var seen: [String: String] = [hub.endpoint: shape == .fanIn ? "the server" : shape == .through ? "clients #1" : "the client"]
            var ips: [String: String] = [hub.testIP: seen[hub.endpoint]!]
            if let middle {
                if let first = seen[middle.endpoint] { sink.add(r.keyLocation("middle"), "the middle is \(first) too (\(middle.endpoint)); a group needs distinct hosts") }
                seen[middle.endpoint] = "the middle"
                ips[middle.testIP] = ips[middle.testIP] ?? "the middle"
            }
            let others = otherClients.enumerated().map { (host: $0.element.0, loc: $0.element.1, what: "clients #\($0.offset + 2)") }
            for (h, loc, what) in others + spokes.enumerated().map({ (host: $0.element.0, loc: $0.element.1, what: "\(shape.spokesKey) #\($0.offset + 1)") }) {
                if let first = seen[h.endpoint] {
                    sink.add(loc, "\(what) is \(first) too (\(h.endpoint)); each host of a group runs one end of its own flow")
                } else if let first = ips[h.testIP] {
                    sink.add(loc, "\(what) has the test_ip of \(first) (\(h.testIP)); each host needs its own")
                }
                seen[h.endpoint] = seen[h.endpoint] ?? what
                ips[h.testIP] = ips[h.testIP] ?? what
            }
        }

        // What a step counts: the spokes; a through group's clients instead; through a balancer, flows.
        var sweepOf: HostGroup.SweepOf = balancer == nil ? .spokes : .flows
        var steps = balancer == nil ? spokes.map { [$0.count] } ?? [] : [spokes?.count ?? 1]
        if let node = r.value("sweep"), let sr = MappingReader(node, in: r.doc, context: "the sweep of group '\(label)'", sink: sink) {
            let keys = balancer != nil ? ["flows"] : shape == .through ? ["backends", "clients"] : [shape.spokesKey]
            let given = keys.filter { sr.value($0) != nil }
            if balancer != nil, sr.value(shape.spokesKey) != nil {
                sink.add(sr.keyLocation(shape.spokesKey), "an external middle picks the backend of each flow itself, so the backends cannot be swept; "
                         + "sweep the flows sent through it instead: 'sweep: { flows: [1, 2, 4] }'")
            } else if given.count > 1 {
                sink.add(sr.keyLocation(given[1]), "a sweep counts one thing: sweep '\(given[0])' or '\(given[1])', not both")
            } else if let key = given.first, let items = sr.stringList(key) {
                sweepOf = key == "flows" ? .flows : key == "clients" && shape == .through ? .clients : .spokes
                let count = key == "flows" ? Self.groupSpokes.upperBound : key == "clients" && shape == .through ? 1 + otherClients.count
                    : spokes?.count ?? Self.groupSpokes.upperBound
                var out: [Int] = []
                for (text, loc) in items.prefix(Self.groupSpokes.upperBound + 1) {
                    guard let n = Int(text), n >= 1 else {
                        sink.add(loc, "a step of the sweep is a number of \(key) from 1 to \(count), not '\(text)'")
                        continue
                    }
                    if n > count && key == "flows" {
                        sink.add(loc, "at most \(count) flows in a step, not \(n)")
                    } else if n > count {
                        sink.add(loc, "the sweep asks for \(n) \(key) and the group lists \(count); add hosts to '\(key)' or lower the step")
                    } else if out.contains(n) {
                        sink.add(loc, "step \(n) is listed twice")
                    } else { out.append(n) }
                }
                if items.isEmpty { sink.add(sr.keyLocation(key), "the sweep is empty; list numbers of \(key) like [1, 2, 3]") }
                steps = out.sorted()
                sr.finish()
            } else if given.isEmpty {
                let what = balancer != nil ? "a group through an external middle sweeps its flows"
                    : "a \(shape.rawValue) group sweeps its " + keys.joined(separator: " or its ")
                sink.add(r.keyLocation("sweep"), "\(what): write 'sweep: { \(keys[0]): [1, 2, 3] }'")
            }
        }
        // Several clients through the relay: every client sends to every backend of a step, and a
        // step holds at most 64 flows.
        if shape == .through, balancer == nil, !otherClients.isEmpty, let spokes,
           (1 + otherClients.count) * spokes.count > Self.groupSpokes.upperBound {
            sink.add(r.keyLocation("clients"), "\(1 + otherClients.count) clients each sending to \(spokes.count) backends make "
                     + "\((1 + otherClients.count) * spokes.count) flows; a step holds at most \(Self.groupSpokes.upperBound)")
        }
        // The relay listens on one port per backend above the agent's.
        if shape == .through, balancer == nil, let spokes, run.agentPort + spokes.count > 65535 {
            sink.add(r.keyLocation("backends"), "the relay on the middle needs ports \(run.agentPort + 1) to \(run.agentPort + spokes.count), "
                     + "past 65535; lower run.agent_port or list fewer backends")
        }
        guard sink.diagnostics.count == before, let name, let hub, let spokes, !steps.isEmpty else { return nil }
        if shape == .through && middle == nil && balancer == nil { return nil }
        var group = HostGroup(name: name.0, shape: shape, provider: instanceType.provider, type: instanceType.type, region: region,
                              hub: hub, spokes: spokes.map(\.0), middle: middle, steps: steps, repetitions: repetitions)
        group.balancer = balancer
        group.otherClients = otherClients.map(\.0)
        group.sweepOf = sweepOf
        group.price = price
        group.priceAsOf = priceAsOf
        return group
    }
}
