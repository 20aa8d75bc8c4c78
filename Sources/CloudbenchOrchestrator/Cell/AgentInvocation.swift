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
    /// The client of a cell on the udp path: its host's tunnel stats file (`--tunnel-stats`).
    public var tunnelStats: String? = nil

    public init(agent: String, runDirectory: String, token: String, cellTag: String) {
        self.agent = agent
        self.runDirectory = runDirectory
        self.token = token
        self.cellTag = cellTag
    }

    /// What to send on the standard input of `startServer` and `runClient`.
    public var tokenInput: String { token + "\n" }

    /// The server's files: one server per host (and network namespace) and run, so one name for
    /// the host's own and one per namespace.
    var pidFile: String { "\(runDirectory)/\(serverName).pid" }
    var logFile: String { "\(runDirectory)/\(serverName).log" }
    var serverName: String {
        guard let netns else { return "serve" }
        return "serve-ns-" + String(netns.unicodeScalars.prefix(120).map {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) ? Character($0) : "_"
        })
    }

    /// Starts the run's server on this host in the background, holding the host's `lease` and
    /// with a `deadline`, so that it ends even if cloudbench dies, and waits for its
    /// `READY pid=PID port=PORT` line: the end of the server's standard output, an event, not a
    /// poll of the port. Prints that line on success (`readyPid` reads it); the server's log on
    /// failure.
    public func startServer(listen address: String, port: Int, deadlineSeconds: Int, lease: String) -> String {
        startDetached(AgentCommandLine.serve(listen: Self.hostPort(address, port), deadline: Double(deadlineSeconds), lease: lease,
                                             tokenOnStandardInput: true,
                                             // The host's own server reads the udp path's tunnel on this host, while one runs.
                                             tunnelStats: netns == nil ? PathSetup.tunnelStats(in: runDirectory) : nil),
                      pidFile: pidFile, logFile: logFile)
    }

    /// Starts the agent with `arguments` in the background and waits for its READY line (a server,
    /// a relay): prints that line and keeps the pid in `pidFile` on success, prints the log on failure.
    func startDetached(_ arguments: [String], pidFile: String, logFile: String) -> String {
        // `mkdir … || exit` stands alone: chained with `&&` it would put the shell itself in the
        // background, holding the session's output open until the server ends.
        // A background job's standard input is /dev/null unless handed on explicitly (fd 3). The
        // command substitution ends when the server lets go of its output, after READY (or dies).
        "mkdir -p \(runDirectory) || exit 1; exec 3<&0; r=$(nohup \(NamespaceLocator.enter(netns, agent)) "
            + arguments.map(shellQuote).joined(separator: " ")
            + " 2>>\(logFile) <&3 3<&- &); exec 3<&-; set -- $r; p=${2#pid=}; "
            + "case \"$1 $p\" in 'READY '|'READY '*[!0-9]*) ;; 'READY '*) echo \"$r\"; echo \"$p\" > \(pidFile); exit 0;; esac; "
            + "cat \(logFile) >&2; exit 1"
    }

    /// The server's pid from `startServer`'s output, when it is the READY line for `port`.
    public static func readyPid(_ output: String, port: Int) -> Int32? {
        let words = output.split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard words.count == 3, words[0] == "READY", words[1].hasPrefix("pid="), words[2] == "port=\(port)",
              let pid = Int32(words[1].dropFirst(4)), pid > 1 else { return nil }
        return pid
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
        case .tcpLatency, .tcpConnectRequestResponse:
            r.duration = run.duration.seconds
            r.warmup = run.warmup.seconds
        case .udpBandwidth:
            r.duration = run.duration.seconds
            r.warmup = run.warmup.seconds
            r.rate = Double(run.udpRate)
        case .udpPackets:
            r.duration = run.duration.seconds
            r.warmup = run.warmup.seconds
            r.rate = Double(run.udpPacketRate)
            r.messageSize = run.udpPacketPayload
        case .http:
            r.size = run.httpSize
            r.count = run.httpCount
        }
        if r.interval > r.duration { r.interval = r.duration }
        return r
    }

    /// The client's arguments (after the program name) for `test` against the server.
    public func clientArguments(address: String, port: Int, test: TestKind, run: RunSettings, variant: CellVariant = .plain) -> [String] {
        AgentCommandLine.run(server: Self.hostPort(address, port), request: Self.request(test: test, run: run, variant: variant), json: true,
                             tokenOnStandardInput: true, rateSearch: test.isUDP && variant.udpRateSearch,
                             lease: RemoteLayout.leaseFile(in: runDirectory), tunnelStats: tunnelStats)
    }

    /// Runs the client and waits for it; its JSON is the cell's measurement. Its pid file lets an
    /// interrupt (or the next run's cleanup) stop it from another connection, and is removed when
    /// it ends: one remote command per cell. The client reads its key from the command's standard
    /// input (handed on as fd 3: a background job's own is /dev/null).
    public func runClient(address: String, port: Int, test: TestKind, run: RunSettings, variant: CellVariant = .plain) -> String {
        runForeground(clientArguments(address: address, port: port, test: test, run: run, variant: variant))
    }

    /// Runs the agent with `arguments` (a client, a group step) and waits for it, with a pid file
    /// while it runs and standard input handed on.
    func runForeground(_ arguments: [String]) -> String {
        let pidFile = foregroundPidFile
        return "mkdir -p \(runDirectory) || exit 1; exec 3<&0; \(NamespaceLocator.enter(netns, agent)) "
            + arguments.map(shellQuote).joined(separator: " ")
            + " <&3 3<&- & echo $! > \(pidFile); exec 3<&-; wait $!; s=$?; rm -f \(pidFile); exit $s"
    }

    var foregroundPidFile: String { "\(runDirectory)/client-\(cellTag).pid" }

    /// Ends what `runForeground` started, by its pid file (only if that pid is still an agent),
    /// waiting up to 5 s for the file: the command may have been started a moment ago.
    func stopForeground() -> String {
        "for i in $(seq 1 50); do [ -s \(foregroundPidFile) ] && break; sleep 0.1; done; " + shellStopAgent(pidFile: foregroundPidFile)
    }

    /// The last lines of the server's log, for the record of a failed cell, and a last line
    /// `ended` when the server (`pid`) no longer runs: the next cell starts a new one.
    public func serverStatus(pid: Int32) -> String {
        // A killed server whose parent has not reaped it yet is a zombie: ended too.
        "tail -n 2 \(logFile) 2>/dev/null; \(shellProcessRuns(String(pid))) || echo ended"
    }

    static func hostPort(_ address: String, _ port: Int) -> String {
        address.contains(":") ? "[\(address)]:\(port)" : "\(address):\(port)"
    }
}
