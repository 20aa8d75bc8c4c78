import CloudbenchCore
import CloudbenchSSH
import Foundation

/// Everything one cell needs to know, as a value.
public struct CellJob: Sendable {
    public var runID: String
    public var pair: Pair
    public var cell: Cell
    /// 1 for the first try of a cell in this run's file, 2 after one failed record, …
    public var attempt: Int
    public var run: RunSettings
    public var serverAgent: String
    public var clientAgent: String
    public var serverLayout: RemoteLayout
    public var clientLayout: RemoteLayout
    /// The hourly price this pair is measured under (inventory override or catalog).
    public var price: Money?
    /// A short tag unique within the run, for pid and log file names.
    public var tag: String
    /// Run on this machine right before the agent client starts (`CLOUDBENCH_BEFORE_CELL`).
    public var beforeCell: CellHook? = nil

    /// Seconds the client may take; the server and the path must outlive it.
    var clientTimeout: Double {
        let measure = run.warmup.seconds + run.duration.seconds
        return cell.test == .http ? max(120, measure + 60) : measure + 30
    }

    /// Consecutive cells of a pair with the same key share one path instance: one path in one
    /// round. (The agent server is the host's, for the whole run: `AgentServers`.)
    var pathInstanceKey: String { "\(cell.path.name)#\(cell.repetition)" }
}

/// How a cell ended: its record, or a reason it was skipped, and whether a host was lost.
public struct CellOutcome: Sendable {
    public var record: ResultRecord?
    public var skipped: String?
    /// The label of a host found unreachable, whose remaining cells should fail at once.
    public var lostHost: String?
}

/// A path set up for consecutive cells of one pair (one path, one round): its route, checked
/// once, and the server host's agent server, which serves every test of those cells.
public struct ActivePath: Sendable {
    var setup: PathSetup
    var route: RouteCheck
    var server: AgentServers.Running
    /// What carries the path's packets off the client (`DatapathProbe`), read once per instance.
    var datapath: Datapath? = nil
    /// The namespace the client's agent runs in (a pod's, a container's); nil: the host's own.
    var clientNetns: String? = nil
}

/// Runs cells: sets up a path and makes sure the server host's agent server runs (`open`), runs
/// the client of each cell on it with a single-use key and parses its JSON into one record
/// (`measure`), and tears the path down (`close`). The agent servers live for the run (`servers`).
///
/// Failures become `status: failed` records with the reason; tear-down runs in every case, on a
/// lost host's survivor too, but not on the lost host (cleaned when it reconnects, or by its lease).
public struct CellRunner: Sendable {
    /// The run's agent servers, one per host.
    public var servers: AgentServers

    public init(servers: AgentServers = AgentServers()) { self.servers = servers }

    /// What `open` made: a path to measure on, or the outcome of the cell that could not start.
    public enum Opened: Sendable {
        case ready(ActivePath)
        case failed(CellOutcome)
    }

    /// One cell on its own path instance: `open`, `measure`, `close`.
    public func run(_ job: CellJob, server: RemoteHost, client: RemoteHost, now: @Sendable () -> Date = Date.init) async -> CellOutcome {
        switch await open([job], server: server, client: client, now: now) {
        case .failed(let outcome): return outcome
        case .ready(let active):
            let outcome = await measure(job, on: active, server: server, client: client, now: now)
            if outcome.lostHost == nil { await close(active, server: server, client: client) }
            return outcome
        }
    }

    /// Sets up the path of `jobs` (consecutive cells of one pair on one path), checks its route
    /// and starts the agent server, which lives as long as all of `jobs` may take.
    public func open(_ jobs: [CellJob], server: RemoteHost, client: RemoteHost, now: @Sendable () -> Date = Date.init) async -> Opened {
        let job = jobs[0]
        let path = job.cell.path
        if path.needsRoot || Self.namespaces(job).server != nil || Self.namespaces(job).client != nil {
            for h in [server, client] where !h.hasRoot {
                return .failed(CellOutcome(record: nil, skipped: "path \(path.name) needs root; \(h.label) has no sudo (set 'sudo: true' or log in as root)", lostHost: nil))
            }
        }
        let deadline = Int(jobs.reduce(0.0) { $0 + $1.clientTimeout } + 60)
        // The path instance's own key (the udp path's tunnel authenticates its datagrams with it).
        let pathKey = Self.token()
        let setup = PathSetup.make(path: path, pair: job.pair,
                                   server: .init(agent: job.serverAgent, runDirectory: job.serverLayout.runDirectory),
                                   client: .init(agent: job.clientAgent, runDirectory: job.clientLayout.runDirectory),
                                   deadline: deadline + 30, pathKey: pathKey, agentPort: job.run.agentPort)
        do {
            // An overlay address in a pod or container: find its namespace on each host, and the
            // address in it. The docker path's namespaces are its own set-up's.
            let spaces = Self.namespaces(job)
            var serverNetns = setup.serverNetns, clientNetns = setup.clientNetns
            if let ns = spaces.server {
                serverNetns = try await NamespaceResolver().resolve(ns, address: setup.serverAddress, on: server)
            }
            if let ns = spaces.client {
                clientNetns = try await NamespaceResolver().resolve(ns, address: setup.clientAddress, on: client)
            }
            // Both ends' set-up at once: each host's steps in order, the two hosts side by side;
            // the agent server of the server host (in the server address's namespace) started
            // (the first time) beside them, or after them when the set-up makes its namespace.
            let servers = self.servers, netns = serverNetns
            let startServer: @Sendable () async -> Result<AgentServers.Running, Error> = {
                do { return .success(try await servers.server(on: server, netns: netns, for: job)) } catch { return .failure(error) }
            }
            let runSetup: @Sendable () async -> Result<Void, Error> = {
                do {
                    try await Self.onBoth(setup.setup, server: server, client: client) { host, step in
                        try await host.check(step.command, input: step.input, what: step.what, timeout: 30, privileged: step.privileged)
                    }
                    return .success(())
                } catch { return .failure(error) }
            }
            let setupResult: Result<Void, Error>, serverResult: Result<AgentServers.Running, Error>
            if setup.serverNetns == nil {
                async let running = startServer()
                setupResult = await runSetup()
                serverResult = await running
            } else {
                setupResult = await runSetup()
                if case .success = setupResult { serverResult = await startServer() }
                else { serverResult = .failure(CellFailure("the path's set-up failed")) }
            }
            try setupResult.get()
            let agentServer = try serverResult.get()
            // The route, and what carries the path's packets off the client, in one round trip.
            let out = try await client.check(RouteCheck.commandWithDatapath(to: setup.serverAddress, underlay: job.pair.server.testIP),
                                             what: "check the route to \(setup.serverAddress)", timeout: 15)
            let seen = RouteCheck.split(out.stdout)
            guard let route = RouteCheck.parse(seen.route) else {
                throw CellFailure("cannot read the route to \(setup.serverAddress) from \(client.label): \(seen.route)")
            }
            if let problem = route.problem(for: setup) { throw CellFailure(problem) }
            var active = ActivePath(setup: setup, route: route, server: agentServer)
            active.clientNetns = clientNetns
            active.datapath = setup.datapath ?? seen.datapath.map { DatapathProbe.detect($0, hostPath: path == .host) } ?? Datapath(kind: .unknown)
            return .ready(active)
        } catch {
            var record = baseRecord(job, now: now())
            record.status = .failed
            record.error = "\(error)"
            var lost: String?
            if let e = error as? RemoteError, case .unreachable(let h, _) = e { lost = h }
            await teardown(setup, server: server, client: client, except: lost)
            finish(&record, job, now: now)
            return .failed(CellOutcome(record: record, skipped: nil, lostHost: lost))
        }
    }

    /// Runs one cell's client on an open path and returns its record.
    public func measure(_ job: CellJob, on active: ActivePath, server: RemoteHost, client: RemoteHost,
                        now: @Sendable () -> Date = Date.init) async -> CellOutcome {
        let setup = active.setup
        var clientInv = AgentInvocation(agent: job.clientAgent, runDirectory: job.clientLayout.runDirectory, token: active.server.key, cellTag: job.tag)
        clientInv.netns = active.clientNetns
        clientInv.tunnelStats = setup.clientTunnelStats
        var lost: String?
        var record = baseRecord(job, now: now())
        do {
            if let hook = job.beforeCell { try await hook.run(job.cell) }
            let out = try await client.run(clientInv.runClient(address: setup.serverAddress, port: job.run.agentPort,
                                                               test: job.cell.test, run: job.run, variant: job.cell.variant),
                                           input: clientInv.tokenInput, timeout: job.clientTimeout, privileged: clientInv.netns != nil)
            if out.status == 0 {
                // Both agents renewed their host's lease as the test ended: the orchestrator's
                // next renewal of these hosts can wait (`LeaseRenewal`).
                let ended = Date()
                server.leaseRenewed(at: ended)
                client.leaseRenewed(at: ended)
            }
            guard out.status == 0 else {
                let said = out.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
                var why = "the agent client failed (exit \(out.status))" + (said.isEmpty ? "" : ": \(said.split(separator: "\n").last ?? "")")
                if setup.path == .docker && said.contains("could not connect") {
                    why += "; the docker path forwards port \(job.run.agentPort) on \(server.label) to its container at "
                        + "\(RemoteLayout.dockerNet).2: a firewall there that drops forwarded packets stops it"
                }
                throw CellFailure(why)
            }
            let (headline, json) = try AgentOutput.parse(out.stdout, test: job.cell.test)
            record.status = .ok
            record.value = headline.value
            record.unit = headline.unit
            var detail: [String: JSONValue] = job.cell.variant.statedDetail(test: job.cell.test)
            if case .object(let o) = json { detail.merge(o) { _, measured in measured } } else { detail["agent"] = json }
            detail["route"] = active.route.json
            if let d = active.datapath { detail["datapath"] = d.json }
            record.detail = .object(detail)
            if job.cell.test == .tcpBandwidth { record.recordBurst() }
            record.source = json["agent_version"]?.string.map { "cloudbench-agent \($0)" } ?? "cloudbench-agent"
        } catch let e as RemoteError {
            record.status = .failed
            record.error = e.description
            if case .unreachable(let h, _) = e { lost = h }
        } catch {
            record.status = .failed
            record.error = "\(error)"
        }
        var status: CommandOutput?
        if record.status == .failed, lost == nil {
            do {
                status = try await server.run(active.server.invocation.serverStatus(pid: active.server.pid), timeout: 10,
                                              privileged: active.server.invocation.netns != nil)
            } catch let e as RemoteError {
                // The client failed because the server host is gone (killed sshd, reboot): it is lost.
                if case .unreachable(let h, let why) = e {
                    lost = h
                    record.error = (record.error ?? "") + " (\(h) is unreachable: \(why))"
                }
            } catch {}
        }
        if let log = status {
            var lines = log.stdout.split(separator: "\n")
            if lines.last == "ended" {
                // The server is gone (killed, crashed): the next cell on this host starts another.
                lines.removeLast()
                await servers.forget(server, netns: active.server.invocation.netns)
                record.error = (record.error ?? "") + " (the agent server on \(server.label) had ended)"
            }
            let said = lines.suffix(2).joined(separator: " / ").trimmingCharacters(in: .whitespaces)
            if !said.isEmpty { record.error = (record.error ?? "") + " (server said: \(said))" }
        }
        // A lost host's side waits for its reconnect's cleanup (or its lease); the survivor's
        // side of the cell (its devices, its end of the path) goes now.
        if let lost { await teardown(setup, server: server, client: client, except: lost) }
        finish(&record, job, now: now)
        return CellOutcome(record: record, skipped: nil, lostHost: lost)
    }

    /// Tears the path down on both hosts at once, briefly (the agent server stays for the run).
    public func close(_ active: ActivePath, server: RemoteHost, client: RemoteHost) async {
        await teardown(active.setup, server: server, client: client)
    }

    /// Runs the tear-down steps of both hosts, but not those of the host labelled `lost`.
    func teardown(_ setup: PathSetup, server: RemoteHost, client: RemoteHost, except lost: String? = nil) async {
        let steps = setup.teardown
        let clientSteps = client.label == lost ? [] : steps.filter { $0.role == .client }
        let serverSteps = server.label == lost ? [] : steps.filter { $0.role == .server }
        async let clientSide: Void = {
            for step in clientSteps { _ = try? await client.run(step.command, timeout: 15, privileged: step.privileged) }
        }()
        for step in serverSteps { _ = try? await server.run(step.command, timeout: 15, privileged: step.privileged) }
        await clientSide
        // The docker path's tear-down ends the agent server in its container with the container:
        // the next instance starts a new one. (A lost host's is forgotten with the host.)
        if let ns = setup.serverNetns, server.label != lost { await servers.forget(server, netns: ns) }
    }

    /// The namespaces of the job's overlay addresses, when its path is an external overlay that has them.
    static func namespaces(_ job: CellJob) -> (server: OverlayNamespace?, client: OverlayNamespace?) {
        guard case .external(let name) = job.cell.path else { return (nil, nil) }
        return (job.pair.server.overlayNamespaces[name], job.pair.client.overlayNamespaces[name])
    }

    /// Runs `steps` on their hosts: each host's steps in order, the server's and the client's side by side.
    static func onBoth(_ steps: [PathStep], server: RemoteHost, client: RemoteHost,
                       _ body: @escaping @Sendable (RemoteHost, PathStep) async throws -> Void) async throws {
        let serverSteps = steps.filter { $0.role == .server }, clientSteps = steps.filter { $0.role == .client }
        async let s: Void = { for step in serverSteps { try await body(server, step) } }()
        var clientError: Error?
        do { for step in clientSteps { try await body(client, step) } } catch { clientError = error }
        try await s
        if let clientError { throw clientError }
    }

    /// A record for a cell that could not start because a host was lost earlier in the run.
    public func lostHostRecord(_ job: CellJob, host: String, now: Date = Date()) -> ResultRecord {
        var r = baseRecord(job, now: now)
        r.status = .failed
        r.error = "not run: \(host) became unreachable earlier in this run"
        return r
    }

    /// A failed record for a cell not run because its pair failed a check before its first cell.
    public func notRunRecord(_ job: CellJob, reason: String, now: Date = Date()) -> ResultRecord {
        var r = baseRecord(job, now: now)
        r.status = .failed
        r.error = reason
        return r
    }

    func baseRecord(_ job: CellJob, now: Date) -> ResultRecord {
        ResultRecord(id: ResultRecord.makeID(runID: job.runID, pair: job.pair.name, path: job.cell.path.name,
                                             test: job.cell.testKey, repetition: job.cell.repetition, attempt: job.attempt),
                     runID: job.runID, time: Self.iso8601(now), pair: job.pair.name, provider: job.pair.provider,
                     type: job.pair.type, region: job.pair.region, placement: job.pair.placement, path: job.cell.path.name,
                     test: job.cell.test.rawValue, repetition: job.cell.repetition, status: .failed, price: job.price,
                     detail: Self.statedDetail(job.cell))
    }

    /// A variant cell's knobs, so that even its failed record says which cell it was (nil when plain).
    static func statedDetail(_ cell: Cell) -> JSONValue? {
        let stated = cell.variant.statedDetail(test: cell.test)
        return stated.isEmpty ? nil : .object(stated)
    }

    func finish(_ record: inout ResultRecord, _ job: CellJob, now: @Sendable () -> Date) {
        record.time = Self.iso8601(now())
        record.id = ResultRecord.makeID(runID: job.runID, pair: job.pair.name, path: job.cell.path.name,
                                        test: job.cell.testKey, repetition: job.cell.repetition, attempt: job.attempt)
    }

    /// 32 random bytes as hex, from the system's generator.
    static func token() -> String {
        var g = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &g)) }.joined()
    }

    static func iso8601(_ d: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: d)
    }
}

/// A cell failed for a reason worth one line.
struct CellFailure: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}
