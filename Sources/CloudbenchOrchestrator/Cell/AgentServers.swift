import CloudbenchCore
import Foundation

/// The agent servers of one run: one per host (and network namespace), started the first time a
/// cell needs it and kept until the run's cleanup, serving every test of every path on that host.
///
/// Each gets a run key of its own on standard input; each test then authenticates with a
/// single-use key derived from it (`TestKey`). A server holds the host's lease (`HostLease`) and
/// listens on every address of the host on the agent port, so that the paths set up later (VXLAN,
/// tunnel, overlays) reach it too. Started by event: the start command returns on the server's
/// READY line, whose pid is then the server's identity (for its status and cleanup).
public actor AgentServers {
    /// A server that said READY.
    public struct Running: Sendable {
        /// The run key the server holds; clients derive their test keys from it.
        public var key: String
        public var pid: Int32
        var invocation: AgentInvocation
    }

    /// Seconds a server lives at most: a bound in case the lease watch itself failed.
    let deadlineSeconds: Int
    private var servers: [ObjectIdentifier: Task<Running, Error>] = [:]

    public init(deadlineSeconds: Int = 86_400) { self.deadlineSeconds = deadlineSeconds }

    /// The server on `host` (the server end of `job`), started now if none runs.
    public func server(on host: RemoteHost, for job: CellJob) async throws -> Running {
        let id = ObjectIdentifier(host)
        if let existing = servers[id] {
            if let running = try? await existing.value { return running }
            if servers[id] == existing { servers[id] = nil }
        }
        let deadline = deadlineSeconds
        let starting = Task { try await Self.start(on: host, for: job, deadlineSeconds: deadline) }
        servers[id] = starting
        do { return try await starting.value } catch {
            if servers[id] == starting { servers[id] = nil }
            throw error
        }
    }

    /// Forgets the server on `host` (it ended, or the host was cleaned up after a reconnect):
    /// the next cell starts a new one.
    public func forget(_ host: RemoteHost) { servers[ObjectIdentifier(host)] = nil }

    /// How many servers this run has started and still counts as running.
    public var count: Int { servers.count }

    static func start(on host: RemoteHost, for job: CellJob, deadlineSeconds: Int) async throws -> Running {
        let key = CellRunner.token()
        let invocation = AgentInvocation(agent: job.serverAgent, runDirectory: job.serverLayout.runDirectory, token: key, cellTag: "serve")
        let port = job.run.agentPort
        // Every address of the host, in the family of its test address.
        let any = job.pair.server.testIP.contains(":") ? "::" : "0.0.0.0"
        let out = try await host.check(invocation.startServer(listen: any, port: port, deadlineSeconds: deadlineSeconds,
                                                              lease: job.serverLayout.leaseFile),
                                       input: invocation.tokenInput, what: "start the agent server", timeout: 20)
        guard let pid = AgentInvocation.readyPid(out.stdout, port: port) else {
            throw CellFailure("the agent server on \(host.label) did not say READY for port \(port): \(out.stdout.prefix(200))")
        }
        return Running(key: key, pid: pid, invocation: invocation)
    }
}
