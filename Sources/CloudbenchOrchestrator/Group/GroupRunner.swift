import AgentContract
import AgentKit
import CloudbenchCore
import CloudbenchSSH
import Foundation

/// A group of the inventory (`HostGroup`) with its hosts connected and ready, and its cells.
public struct GroupWork: Sendable {
    public var group: HostGroup
    public var jobs: [CellJob]
    public var hub: RemoteHost
    /// A through group's clients after the hub, in the order of `group.otherClients`.
    public var otherClients: [RemoteHost]
    /// In the order of `group.spokes`.
    public var spokes: [RemoteHost]
    public var middle: RemoteHost?

    public init(group: HostGroup, jobs: [CellJob], hub: RemoteHost, otherClients: [RemoteHost] = [], spokes: [RemoteHost], middle: RemoteHost?) {
        self.group = group
        self.jobs = jobs
        self.hub = hub
        self.otherClients = otherClients
        self.spokes = spokes
        self.middle = middle
    }

    var hosts: [RemoteHost] { [hub] + otherClients + (middle.map { [$0] } ?? []) + spokes }
    var clients: [RemoteHost] { [hub] + otherClients }
}

/// Runs a group's steps: the run's agent server on each spoke of the step, the relay on a
/// `through` group's middle, and the group agent on the hub (`run --servers`, the barrier and the
/// one window), whose JSON becomes one record with `detail.group`.
///
/// Groups run after the pairs, one at a time: a group occupies all its hosts, and no pair's cell
/// shares one of them while it runs.
public struct GroupRunner: Sendable {
    public var servers: AgentServers

    public init(servers: AgentServers) { self.servers = servers }

    public func run(_ work: GroupWork, state: RunState, onStart: @escaping @Sendable (CellJob) async -> Void,
                    onOutcome: @escaping @Sendable (CellJob, CellOutcome) async -> Void) async {
        var relay: Result<Void, Error>?
        for job in work.jobs {
            if await state.stopping { break }
            await onStart(job)
            // Only the hosts of this step: a lost spoke past it does not fail a smaller step.
            let direct = job.cell.variant.groupDirect
            let plan = work.group.plan(step: job.cell.variant.groupStep, direct: direct)
            let hosts = work.clients.prefix(plan.clients) + (direct ? [] : work.middle.map { [$0] } ?? []) + work.spokes.prefix(plan.spokes)
            let lost = await state.lostHosts
            if let gone = hosts.first(where: { lost[$0.label] != nil }) {
                await onOutcome(job, CellOutcome(record: CellRunner().lostHostRecord(job, host: gone.label), skipped: nil, lostHost: nil))
                continue
            }
            // The relay once per group; a start that failed is tried again at the next step through it.
            var tried: Result<Void, Error>?
            if work.group.shape == .through, !direct, let middle = work.middle {  // (none with a balancer of the user's)
                if case .success? = relay {} else {
                    do { try await startRelay(on: middle, work: work); relay = .success(()) } catch { relay = .failure(error) }
                }
                tried = relay
            }
            let outcome = await step(job, work, relay: tried)
            if let host = outcome.lostHost { await state.hostLost(host, reason: outcome.record?.error ?? "unreachable") }
            await onOutcome(job, outcome)
        }
        // The middle may serve another group next: its relay ends with this one.
        if case .success? = relay, let middle = work.middle, await state.lostHosts[middle.label] == nil {
            _ = try? await middle.run(Self.stopRelay(work.group, layout: middle.layout), timeout: 15)
        }
    }

    /// One step: its servers, then the hub's agent against all of them at once (and, with several
    /// clients, the others' senders beside it).
    func step(_ job: CellJob, _ work: GroupWork, relay: Result<Void, Error>?) async -> CellOutcome {
        let group = work.group
        let direct = job.cell.variant.groupDirect
        let plan = group.plan(step: job.cell.variant.groupStep, direct: direct)
        let k = plan.spokes
        let step = job.cell.variant.groupStep ?? k
        let runner = CellRunner(servers: servers)
        var record = runner.baseRecord(job, now: Date())
        // A failed step's record says which group, shape, step and hosts it was, without flows.
        record.detail = .object(["group": Self.groupDetail(group, step: step, plan: plan, direct: direct, agent: .null, hosts: work)])
        var lost: String?
        var running: [AgentServers.Running] = []
        do {
            try relay?.get()
            if let hook = job.beforeCell { try await hook.run(job.cell) }
            let port = job.run.agentPort
            running = try await withThrowingTaskGroup(of: (Int, AgentServers.Running).self) { tasks in
                for i in 0..<k {
                    let host = work.spokes[i], ipv6 = group.spokes[i].testIP.contains(":")
                    tasks.addTask {
                        do {
                            return (i, try await servers.server(on: host, place: .init(agent: host.layout.agentPath(sha256: host.agentSHA),
                                                                                       layout: host.layout, port: port, ipv6: ipv6)))
                        } catch let e as RemoteError { throw e } catch { throw CellFailure("\(host.label): \(error)") }
                    }
                }
                var out: [AgentServers.Running?] = Array(repeating: nil, count: k)
                for try await (i, r) in tasks { out[i] = r }
                return out.compactMap { $0 }
            }
            var request = AgentInvocation.request(test: .tcpBandwidth, run: job.run)
            request.reverse = group.shape == .fanIn
            let addresses = group.spokes.prefix(k).map { AgentInvocation.hostPort($0.testIP, port) }
            /// Where data for spoke `i` goes: the relay's port for it, or straight to its agent.
            func target(_ i: Int?) -> String {
                guard let i else { return group.balancer!.endpoint }
                if !direct, let m = group.middle { return AgentInvocation.hostPort(m.testIP, group.relayPort(backend: i, agentPort: port)) }
                return addresses[i]
            }
            let flows = plan.flows?.enumerated().map { (flow: $0.offset, client: $0.element.client, to: target($0.element.spoke)) }
            let via = flows != nil || direct ? nil : group.middle.map { _ in (0..<k).map { target($0) } }
            let pool = flows.map { f in (flows: f.count, own: f.filter { $0.client == 0 }.map { (flow: $0.flow, to: $0.to) }) }
            let poolID = TestKey.randomID()
            let hub = work.hub
            let invocation = AgentInvocation(agent: hub.layout.agentPath(sha256: hub.agentSHA), runDirectory: hub.layout.runDirectory,
                                             token: running[0].key, cellTag: job.tag)
            let arguments = AgentCommandLine.group(servers: addresses, via: via, pool: pool, request: request,
                                                   lease: RemoteLayout.leaseFile(in: hub.layout.runDirectory))
            let input = running.map(\.key).joined(separator: "\n") + "\n" + (pool == nil ? "" : poolID + "\n")
            // The other clients' flows, sent beside the hub's step; each tries until the servers take them.
            let senders = (1..<max(1, plan.clients)).compactMap { c -> (RemoteHost, [(flow: Int, to: String)])? in
                let mine = flows?.filter { $0.client == c }.map { (flow: $0.flow, to: $0.to) } ?? []
                return mine.isEmpty ? nil : (work.otherClients[c - 1], mine)
            }
            // Long enough for the flows to land (the hub waits 20 s for them) and the window to pass.
            let deadline = 20 + request.warmup + request.duration + 15
            func sender(_ host: RemoteHost) -> AgentInvocation {
                AgentInvocation(agent: host.layout.agentPath(sha256: host.agentSHA), runDirectory: host.layout.runDirectory, token: "", cellTag: job.tag)
            }
            async let sent: [(String, CommandOutput?, Error?)] = withTaskGroup(of: (String, CommandOutput?, Error?).self) { tasks in
                for (host, mine) in senders {
                    let command = sender(host).runForeground(AgentCommandLine.send(mine, deadline: deadline, messageSize: request.messageSize,
                                                                                    lease: RemoteLayout.leaseFile(in: host.layout.runDirectory)))
                    tasks.addTask {
                        do {
                            return (host.label, try await host.run(command,
                                                                   input: poolID + "\n", timeout: deadline + 15), nil)
                        } catch { return (host.label, nil, error) }
                    }
                }
                var all: [(String, CommandOutput?, Error?)] = []
                for await r in tasks { all.append(r) }
                return all
            }
            let ran: Result<CommandOutput, Error>
            do { ran = .success(try await hub.run(invocation.runForeground(arguments), input: input, timeout: job.clientTimeout + 15)) } catch {
                ran = .failure(error)
            }
            // A step that failed ends its senders now: they would try until their deadline.
            if (try? ran.get().status) != 0 {
                for (host, _) in senders { _ = try? await host.run(sender(host).stopForeground(), timeout: 10) }
            }
            // A sender's own failure is said beside the step's ("only 3 of 4 flows reached a server"): it
            // names the client. One this step ended (SIGTERM, 143) has nothing to add.
            var failures: [String] = []
            let sentOutputs = await sent
            // The hub's host gone is what the step failed of, whatever its senders said.
            if case .failure(let e) = ran, let lost = e as? RemoteError { throw lost }
            for (label, output, error) in sentOutputs {
                if let e = error as? RemoteError { throw e }
                if let error { failures.append("the sender on \(label) failed: \(error)") }
                if let output, output.status != 0, output.status != 143 {
                    failures.append("the sender on \(label) failed (exit \(output.status))" + (Self.lastLine(output.stderr).map { ": \($0)" } ?? ""))
                }
            }
            let out = try ran.get()
            if out.status != 0 {
                failures.insert("the group's agent on \(hub.label) failed (exit \(out.status))" + (Self.lastLine(out.stderr).map { ": \($0)" } ?? ""), at: 0)
            }
            guard failures.isEmpty else { throw CellFailure(failures.joined(separator: "; ")) }
            let ended = Date()
            for host in work.clients.prefix(plan.clients) + work.spokes.prefix(k) { host.leaseRenewed(at: ended) }
            let (headline, json) = try AgentOutput.parse(out.stdout, test: .tcpBandwidth)
            record.status = .ok
            record.value = headline.value
            record.unit = headline.unit
            var detail: [String: JSONValue] = [:]
            if case .object(let o) = json { detail = o }
            detail["group"] = Self.groupDetail(group, step: step, plan: plan, direct: direct, agent: json, hosts: work)
            // The other clients' own account of their flows (bytes written, retransmits): the
            // agent's sender_* figures are the hub's flows only (`sender_flows`).
            if !sentOutputs.isEmpty, case .object(var g)? = detail["group"] {
                g["senders"] = .array(sentOutputs.compactMap { label, output, _ in
                    guard let text = output?.stdout, let data = text.data(using: .utf8),
                          let sent = try? JSONDecoder().decode(JSONValue.self, from: data) else { return nil }
                    var o: [String: JSONValue] = ["host": .string(label)]
                    o["flows"] = sent["flows"]
                    return .object(o)
                })
                detail["group"] = .object(g)
            }
            record.detail = .object(detail)
            record.source = json["agent_version"]?.string.map { "cloudbench-agent \($0)" } ?? "cloudbench-agent"
        } catch let e as RemoteError {
            record.error = e.description
            if case .unreachable(let h, _) = e { lost = h }
        } catch {
            record.error = "\(error)"
        }
        // A spoke's server that has ended (killed, crashed) is said, and started again for the next step.
        if record.status == .failed, lost == nil {
            for (i, server) in running.enumerated() {
                let host = work.spokes[i]
                guard let out = try? await host.run(server.invocation.serverStatus(pid: server.pid), timeout: 10),
                      out.stdout.split(separator: "\n").last == "ended" else { continue }
                await servers.forget(host, netns: nil)
                record.error = (record.error ?? "") + " (the agent server on \(host.label) had ended)"
            }
        }
        runner.finish(&record, job, now: Date.init)
        return CellOutcome(record: record, skipped: nil, lostHost: lost)
    }

    /// `detail.group`: the shape, the step, each flow's rate (bytes/s, in spoke order, or through
    /// a balancer in the order the flows were opened), Jain's fairness index, and which host is
    /// which, so that a report can name the one that caps it. Through a balancer, also the middle's
    /// address (`external`) and how many flows it put on each backend (`landed`, in spoke order).
    static func groupDetail(_ group: HostGroup, step: Int, plan: HostGroup.StepPlan, direct: Bool, agent json: JSONValue,
                            hosts work: GroupWork) -> JSONValue {
        var rates: [Double] = []
        if case .array(let flows)? = json["flows"] { rates = flows.compactMap { $0["bytes_per_second"]?.double } }
        var out: [String: JSONValue] = [
            "shape": .string(group.shape.rawValue),
            "step": .number(Double(step)),
            "step_of": .string(group.stepKey),
            "flows": .array(rates.map { .number($0) }),
            "hub": .string(work.hub.label),
            group.shape.spokesKey: .array(work.spokes.prefix(plan.spokes).map { .string($0.label) }),
        ]
        if plan.clients > 1 { out["clients"] = .array(work.clients.prefix(plan.clients).map { .string($0.label) }) }
        // Each flow's client, when several send (the flows are in this order).
        if let flows = plan.flows, plan.clients > 1 { out["flow_clients"] = .array(flows.map { .number(Double($0.client + 1)) }) }
        if let f = HostGroup.fairness(rates) { out["fairness"] = .number(f) }
        // Each host's busy share of its cores over the step (the agent's `hosts`, by address), named as the inventory names it.
        if case .array(let hosts)? = json["hosts"], let port = work.jobs.first?.run.agentPort {
            var cpu: [JSONValue] = []
            for h in hosts.prefix(1 + group.spokes.count) {
                let label = h["role"]?.string == "hub" ? work.hub.label
                    : group.spokes.indices.first { AgentInvocation.hostPort(group.spokes[$0].testIP, port) == h["server"]?.string }.map { work.spokes[$0].label }
                let parts = ["user_percent", "system_percent", "softirq_percent"].compactMap { h[$0]?.double }
                guard let label, parts.count == 3 else { continue }
                cpu.append(.object(["host": .string(label), "busy_percent": .number(parts.reduce(0, +))]))
            }
            if !cpu.isEmpty { out["cpu"] = .array(cpu) }
        }
        if let m = work.middle { out["middle"] = .string(m.label) }
        if let b = group.balancer {
            out["middle"] = .string(b.endpoint)
            out["external"] = .bool(true)
            if !direct, case .array(let backends)? = json["backends"] {
                out["landed"] = .array(backends.prefix(plan.spokes).map { b in
                    if case .array(let flows)? = b["flows"] { return .number(Double(flows.count)) }
                    return .number(0)
                })
            }
        }
        if direct { out["direct"] = .bool(true) }
        return .object(out)
    }

    /// The relay on the middle: one port per backend, each to that backend's agent, for the
    /// group's whole run (the run's cleanup and the middle's lease end it).
    func startRelay(on middle: RemoteHost, work: GroupWork) async throws {
        let group = work.group
        guard let m = group.middle, let port = work.jobs.first?.run.agentPort else { return }
        let routes = group.spokes.indices.map { (port: group.relayPort(backend: $0, agentPort: port), to: AgentInvocation.hostPort(group.spokes[$0].testIP, port)) }
        let deadline = work.jobs.reduce(60.0) { $0 + $1.clientTimeout + 15 }
        let layout = middle.layout
        let invocation = AgentInvocation(agent: layout.agentPath(sha256: middle.agentSHA), runDirectory: layout.runDirectory, token: "", cellTag: "relay")
        let out = try await middle.check(
            invocation.startDetached(AgentCommandLine.relay(listen: m.testIP, routes: routes, deadline: min(deadline, AgentLimits.deadline.upperBound),
                                                            allow: group.clients.map(\.testIP), lease: layout.leaseFile),
                                     pidFile: Self.relayPidFile(group, layout: layout), logFile: "\(layout.runDirectory)/relay.log"),
            what: "start the relay on the middle", timeout: 20)
        guard AgentInvocation.readyPid(out.stdout, port: routes[0].port) != nil else {
            throw CellFailure("the relay on \(middle.label) did not say READY: \(out.stdout.prefix(200))")
        }
    }

    static func lastLine(_ text: String) -> String? {
        text.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\n").last.map(String.init)
    }

    static func relayPidFile(_ group: HostGroup, layout: RemoteLayout) -> String { "\(layout.runDirectory)/relay-\(group.name).pid" }

    /// Ends the group's relay by its pid file (only if that pid is still an agent).
    static func stopRelay(_ group: HostGroup, layout: RemoteLayout) -> String {
        let file = relayPidFile(group, layout: layout)
        return shellStopAgent(pidFile: file) + "; rm -f \(file)"
    }
}
