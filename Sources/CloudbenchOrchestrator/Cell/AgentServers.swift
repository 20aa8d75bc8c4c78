import CloudbenchCore
import Foundation

/// The agent servers of one run: one per host and network namespace, started the first time a
/// cell needs it and kept until the run's cleanup, serving every test of every path on that host.
/// The host's own namespace has one server shared by all its paths; a cell whose server address
/// is in a pod's or container's namespace gets a server started inside that namespace
/// (`AgentInvocation.netns`), shared by the cells that use the same namespace.
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
    private var servers: [Key: Task<Running, Error>] = [:]

    /// A host, and the namespace the server runs in (nil: the host's own).
    struct Key: Hashable {
        var host: ObjectIdentifier
        var netns: String?
    }

    public init(deadlineSeconds: Int = 86_400) { self.deadlineSeconds = deadlineSeconds }

    /// The server on `host` (the server end of `job`) in the network namespace `netns` (nil: the
    /// host's own), started now if none runs.
    public func server(on host: RemoteHost, netns: String? = nil, for job: CellJob) async throws -> Running {
        try await server(on: host, netns: netns, place: Place(agent: job.serverAgent, layout: job.serverLayout, port: job.run.agentPort,
                                                              ipv6: job.pair.server.testIP.contains(":")))
    }

    /// Where a server runs on its host: the agent binary, the run's files, the port and family.
    public struct Place: Sendable {
        var agent: String
        var layout: RemoteLayout
        var port: Int
        var ipv6: Bool
    }

    /// The server on `host` in `netns` (nil: the host's own), started at `place` if none runs.
    public func server(on host: RemoteHost, netns: String? = nil, place: Place) async throws -> Running {
        let id = Key(host: ObjectIdentifier(host), netns: netns)
        if let existing = servers[id] {
            if let running = try? await existing.value { return running }
            if servers[id] == existing { servers[id] = nil }
        }
        let deadline = deadlineSeconds
        let starting = Task { try await Self.start(on: host, netns: netns, place: place, deadlineSeconds: deadline) }
        servers[id] = starting
        do { return try await starting.value } catch {
            if servers[id] == starting { servers[id] = nil }
            throw error
        }
    }

    /// Forgets the servers on `host`, in every namespace (the host was cleaned up after a
    /// reconnect): the next cell starts new ones.
    public func forget(_ host: RemoteHost) {
        let id = ObjectIdentifier(host)
        servers = servers.filter { $0.key.host != id }
    }

    /// Forgets the server on `host` in `netns` (it ended): the next cell there starts a new one.
    public func forget(_ host: RemoteHost, netns: String?) { servers[Key(host: ObjectIdentifier(host), netns: netns)] = nil }

    /// How many servers this run has started and still counts as running.
    public var count: Int { servers.count }

    static func start(on host: RemoteHost, netns: String?, place: Place, deadlineSeconds: Int) async throws -> Running {
        let key = CellRunner.token()
        var invocation = AgentInvocation(agent: place.agent, runDirectory: place.layout.runDirectory, token: key, cellTag: "serve")
        invocation.netns = netns
        let port = place.port
        // Every address of the host (or of the namespace), in the family of its test address.
        let any = place.ipv6 ? "::" : "0.0.0.0"
        let out = try await host.check(invocation.startServer(listen: any, port: port, deadlineSeconds: deadlineSeconds,
                                                              lease: place.layout.leaseFile),
                                       input: invocation.tokenInput, what: "start the agent server", timeout: 20,
                                       privileged: netns != nil)
        guard let pid = AgentInvocation.readyPid(out.stdout, port: port) else {
            let place = netns.map { "\(host.label) (namespace \($0))" } ?? host.label
            throw CellFailure("the agent server on \(place) did not say READY for port \(port): \(out.stdout.prefix(200))")
        }
        return Running(key: key, pid: pid, invocation: invocation)
    }
}
