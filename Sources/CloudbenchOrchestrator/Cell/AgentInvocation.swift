import AgentKit
import CloudbenchCore
import CloudbenchSSH

/// The agent's command lines for one cell (the contract in docs/agent.md), built from the
/// agent's own request type (`TestRequest`, `AgentCommandLine`) so both sides read one definition.
///
/// The token is never in a command: the agent reads it from standard input (`--token-stdin`),
/// and the caller sends `tokenInput` there (`RemoteHost.run(_:input:)`), so it shows neither in
/// a process list on either host nor in cloudbench's logs.
public struct AgentInvocation: Sendable {
    public var agent: String
    public var runDirectory: String
    public var token: String
    public var cellTag: String
    /// The network namespace the agent runs in (`nsenter --net=…`, as root); nil: the host's own.
    public var netns: String? = nil

    public init(agent: String, runDirectory: String, token: String, cellTag: String) {
        self.agent = agent
        self.runDirectory = runDirectory
        self.token = token
        self.cellTag = cellTag
    }

    /// What to send on the standard input of `startServer` and `runClient`.
    public var tokenInput: String { token + "\n" }

    var pidFile: String { "\(runDirectory)/serve-\(cellTag).pid" }
    var logFile: String { "\(runDirectory)/serve-\(cellTag).log" }

    /// Starts the server in the background, with a deadline so it ends even if cloudbench dies,
    /// and waits until it listens. Prints nothing on success.
    public func startServer(address: String, port: Int, deadlineSeconds: Int) -> String {
        // `mkdir … || exit` stands alone: chained with `&&` it would put the shell itself in the
        // background, holding the session's output open until the server ends.
        // A background job's standard input is /dev/null unless handed on explicitly (fd 3).
        "mkdir -p \(runDirectory) || exit 1; exec 3<&0; nohup \(NamespaceLocator.enter(netns, agent)) "
            + AgentCommandLine.serve(listen: hostPort(address, port), deadline: Double(deadlineSeconds), tokenOnStandardInput: true)
                .map(shellQuote).joined(separator: " ")
            + " > \(logFile) 2>&1 <&3 3<&- & exec 3<&-; echo $! > \(pidFile); "
            + "for i in $(seq 1 100); do "
            + "if command -v ss >/dev/null; then \(NamespaceLocator.enter(netns, "ss")) -Hltn 'sport = :\(port)' | grep -q . && exit 0; else sleep 0.3; exit 0; fi; "
            + "kill -0 $(cat \(pidFile)) 2>/dev/null || break; sleep 0.05; done; cat \(logFile) >&2; exit 1"
    }

    /// What the client is asked to measure, from the inventory's run settings and the cell's
    /// variant (direction, stream count).
    public static func request(test: TestKind, run: RunSettings, variant: CellVariant = .plain) -> TestRequest {
        var r = TestRequest(test: test)
        switch variant.direction {
        case .clientToServer: break
        case .serverToClient: r.reverse = true
        case .bidirectional: r.bidirectional = test == .tcpBandwidth
        }
        switch test {
        case .tcpBandwidth:
            r.duration = run.duration.seconds
            r.warmup = run.warmup.seconds
            r.streams = variant.streams
            r.messageSize = run.messageSize
        case .tcpLatency:
            r.duration = run.duration.seconds
            r.warmup = run.warmup.seconds
        case .udpBandwidth:
            r.duration = run.duration.seconds
            r.warmup = run.warmup.seconds
            r.rate = Double(run.udpRate)
        case .http:
            r.size = run.httpSize
            r.count = run.httpCount
        }
        if r.interval > r.duration { r.interval = r.duration }
        return r
    }

    /// The client's arguments (after the program name) for `test` against the server.
    public func clientArguments(address: String, port: Int, test: TestKind, run: RunSettings, variant: CellVariant = .plain) -> [String] {
        AgentCommandLine.run(server: hostPort(address, port), request: Self.request(test: test, run: run, variant: variant), json: true,
                             tokenOnStandardInput: true, rateSearch: test == .udpBandwidth && variant.udpRateSearch)
    }

    /// Runs the client in the foreground; its JSON is the cell's measurement. Its pid file lets
    /// an interrupt (or the next run's cleanup) stop it from another connection.
    public func runClient(address: String, port: Int, test: TestKind, run: RunSettings, variant: CellVariant = .plain) -> String {
        "mkdir -p \(runDirectory) && echo $$ > \(runDirectory)/client-\(cellTag).pid && "
            + "exec \(NamespaceLocator.enter(netns, agent)) "
            + clientArguments(address: address, port: port, test: test, run: run, variant: variant).map(shellQuote).joined(separator: " ")
    }

    /// Removes the client's pid file once it has ended.
    public func clientDone() -> String { "rm -f \(runDirectory)/client-\(cellTag).pid" }

    /// The last lines of the server's log, for the record of a failed cell.
    public func serverLogTail() -> String { "tail -n 2 \(logFile) 2>/dev/null; true" }

    /// Stops the server if it still runs (it serves every test of its path instance until its
    /// deadline), and removes its files. Prints the server's log first.
    public func stopServer() -> String {
        "p=$(cat \(pidFile) 2>/dev/null); cat \(logFile) 2>/dev/null; "
            + "if [ -n \"$p\" ] && grep -q cloudbench-agent /proc/$p/cmdline 2>/dev/null; then kill $p; fi; "
            + "rm -f \(pidFile) \(logFile); true"
    }

    func hostPort(_ address: String, _ port: Int) -> String {
        address.contains(":") ? "[\(address)]:\(port)" : "\(address):\(port)"
    }
}
