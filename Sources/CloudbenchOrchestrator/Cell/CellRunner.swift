import CloudbenchCore
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
    /// Run on this machine right before the agent starts (`CLOUDBENCH_BEFORE_CELL`).
    public var beforeCell: CellHook? = nil
}

/// How a cell ended: its record, or a reason it was skipped, and whether a host was lost.
public struct CellOutcome: Sendable {
    public var record: ResultRecord?
    public var skipped: String?
    /// The label of a host found unreachable, whose remaining cells should fail at once.
    public var lostHost: String?
}

/// Runs one cell: sets up its path, starts the agent server with a fresh token and a deadline,
/// runs the client, parses its JSON, tears everything down, and returns one record.
///
/// Failures become `status: failed` records with the reason; tear-down runs in every case.
public struct CellRunner: Sendable {
    public init() {}

    public func run(_ job: CellJob, server: RemoteHost, client: RemoteHost, now: @Sendable () -> Date = Date.init) async -> CellOutcome {
        let path = job.cell.path
        if path.needsRoot {
            for h in [server, client] where !h.hasRoot {
                return CellOutcome(record: nil, skipped: "path \(path.name) needs root; \(h.label) has no sudo (set 'sudo: true' or log in as root)", lostHost: nil)
            }
        }
        let measure = job.run.warmup.seconds + job.run.duration.seconds
        let clientTimeout = job.cell.test == .http ? max(120, measure + 60) : measure + 30
        let deadline = Int(clientTimeout + 60)
        let setup = PathSetup.make(path: path, pair: job.pair,
                                   server: .init(agent: job.serverAgent, runDirectory: job.serverLayout.runDirectory),
                                   client: .init(agent: job.clientAgent, runDirectory: job.clientLayout.runDirectory),
                                   deadline: deadline + 30)
        let token = Self.token()
        let serverInv = AgentInvocation(agent: job.serverAgent, runDirectory: job.serverLayout.runDirectory, token: token, cellTag: job.tag)
        let clientInv = AgentInvocation(agent: job.clientAgent, runDirectory: job.clientLayout.runDirectory, token: token, cellTag: job.tag)
        func host(_ role: Instance.Role) -> RemoteHost { role == .server ? server : client }

        var serverStarted = false
        var lost: String?
        var record = baseRecord(job, now: now())
        do {
            for step in setup.setup {
                try await host(step.role).check(step.command, what: step.what, timeout: 30, privileged: step.privileged)
            }
            let routeOut = try await client.check(RouteCheck.command(to: setup.serverAddress, underlay: job.pair.server.testIP),
                                                  what: "check the route to \(setup.serverAddress)", timeout: 15)
            guard let route = RouteCheck.parse(routeOut.stdout) else {
                throw CellFailure("cannot read the route to \(setup.serverAddress) from \(client.label): \(routeOut.stdout)")
            }
            if let problem = route.problem(for: setup) { throw CellFailure(problem) }
            if let hook = job.beforeCell { try await hook.run(job.cell) }

            try await server.check(serverInv.startServer(address: setup.serverAddress, port: job.run.agentPort, deadlineSeconds: deadline),
                                   input: serverInv.tokenInput, what: "start the agent server", timeout: 20)
            serverStarted = true
            let out = try await client.run(clientInv.runClient(address: setup.serverAddress, port: job.run.agentPort,
                                                               test: job.cell.test, run: job.run),
                                           input: clientInv.tokenInput, timeout: clientTimeout, privileged: false)
            _ = try? await client.run(clientInv.clientDone(), timeout: 10)
            guard out.status == 0 else {
                let said = out.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
                throw CellFailure("the agent client failed (exit \(out.status))" + (said.isEmpty ? "" : ": \(said.split(separator: "\n").last ?? "")"))
            }
            let (headline, json) = try AgentOutput.parse(out.stdout, test: job.cell.test)
            record.status = .ok
            record.value = headline.value
            record.unit = headline.unit
            var detail: [String: JSONValue] = [:]
            if case .object(let o) = json { detail = o } else { detail["agent"] = json }
            detail["route"] = route.json
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
        // Tear down in every case, briefly: a lost host is cleaned at the next run's start.
        if lost == nil {
            if serverStarted {
                let stopped = try? await server.run(serverInv.stopServer(), timeout: 10, privileged: false)
                if record.status == .failed, let log = stopped?.stdout.trimmingCharacters(in: .whitespacesAndNewlines), !log.isEmpty {
                    record.error = (record.error ?? "") + " (server said: \(log.split(separator: "\n").suffix(2).joined(separator: " / ")))"
                }
            }
            for step in setup.teardown {
                _ = try? await host(step.role).run(step.command, timeout: 15, privileged: step.privileged)
            }
        }
        record.time = Self.iso8601(now())
        record.id = ResultRecord.makeID(runID: job.runID, pair: job.pair.name, path: path.name,
                                        test: job.cell.test.rawValue, repetition: job.cell.repetition, attempt: job.attempt)
        return CellOutcome(record: record, skipped: nil, lostHost: lost)
    }

    /// A record for a cell that could not start because a host was lost earlier in the run.
    public func lostHostRecord(_ job: CellJob, host: String, now: Date = Date()) -> ResultRecord {
        var r = baseRecord(job, now: now)
        r.status = .failed
        r.error = "not run: \(host) became unreachable earlier in this run"
        return r
    }

    func baseRecord(_ job: CellJob, now: Date) -> ResultRecord {
        ResultRecord(id: ResultRecord.makeID(runID: job.runID, pair: job.pair.name, path: job.cell.path.name,
                                             test: job.cell.test.rawValue, repetition: job.cell.repetition, attempt: job.attempt),
                     runID: job.runID, time: Self.iso8601(now), pair: job.pair.name, provider: job.pair.provider,
                     type: job.pair.type, region: job.pair.region, placement: job.pair.placement, path: job.cell.path.name,
                     test: job.cell.test.rawValue, repetition: job.cell.repetition, status: .failed, price: job.price)
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
