#if canImport(Glibc)
import Glibc
#endif
import Syscall

/// `cloudbench-agent serve`: one test at a time, for a client that knows the token, until
/// the deadline, SIGTERM, or the end of its lease (`--lease`).
///
/// Once it listens it prints one line on standard output, `READY pid=PID port=PORT`, and then
/// lets go of standard input and output: the orchestrator starts it by waiting for that line
/// (the end of the output), never by looking for something listening on the port.
public final class Server: @unchecked Sendable {
    public let options: ServeOptions
    /// How long a new control connection may take to send its request line.
    public static let requestTimeout = 5.0
    /// At most this many connections wait for their request line at once; a newer one drops
    /// the oldest.
    public static let pendingCapacity = 16

    /// Test ids already served: each single-use key works once (only the accepting thread uses it).
    private var spent = SpentKeys()

    public init(_ options: ServeOptions) { self.options = options }

    static func log(_ message: String) { printError("cloudbench-agent serve: \(message)") }

    /// Serves until the deadline or a signal ends the process; returns only by exiting.
    public func run() throws -> Never {
        // Block the stop signals in every thread; one thread waits for them or the deadline.
        var stopSignals = sigset_t()
        sigemptyset(&stopSignals)
        for s in [SIGTERM, SIGINT, SIGHUP] { sigaddset(&stopSignals, s) }
        pthread_sigmask(SIG_BLOCK, &stopSignals, nil)
        signal(SIGPIPE, SIG_IGN)

        let listener = try Socket.listen(on: options.listen)
        if let lease = options.lease { try Lease.hold(lease, log: { Server.log($0) }) }
        let deadline = Clock.now() + options.deadline
        let set = stopSignals
        _ = try WorkerThread<Void> {
            // The watchdog: no client, a dead orchestrator or a stuck test cannot keep us alive.
            // (An error here could only be a bad signal set; the deadline still ends the process.)
            if let sig = (try? Posix.waitForSignal(set, until: Deadline(at: deadline))) ?? nil {
                Server.log("stopping on signal \(sig == SIGTERM ? "SIGTERM" : sig == SIGINT ? "SIGINT" : "SIGHUP")")
                _exit(0)
            }
            Clock.sleep(deadline - Clock.now())
            Server.log("deadline of \(formatSeconds(self.options.deadline)) s reached; exiting")
            _exit(0)
        }
        Server.log("\(AgentVersion.version) listening on \(options.listen) for \(formatSeconds(options.deadline)) s")
        Server.ready(port: listener.localAddress()?.port ?? options.listen.port)
        // Every connection waiting for its request line is read at once: idle or slow peers
        // cost a slot for `requestTimeout` seconds, never a real client's time.
        let pending = PendingConnections(listener: listener, capacity: Server.pendingCapacity,
                                         budget: Server.requestTimeout, maxLine: 4096, log: { Server.log($0) })
        while true {
            guard let (conn, peer, line) = try pending.nextLine(until: Clock.now() + 1) else { continue }
            let started = Clock.now()
            handle(conn, peer: peer, line: line, listener: listener)
            conn.close()
            // Nobody read the others while the test ran: that time is not theirs.
            pending.extendDeadlines(by: Clock.now() - started)
        }
    }

    /// `READY pid=PID port=PORT` on standard output, then standard input and output become
    /// /dev/null: whoever waits for the end of the output (the start command) goes on now.
    static func ready(port: UInt16) {
        let line = Array("READY pid=\(getpid()) port=\(port)\n".utf8)
        var off = 0
        while off < line.count {
            let n = line[off...].withUnsafeBytes { write(1, $0.baseAddress!, $0.count) }
            if n <= 0 { if n < 0 && errno == EINTR { continue }; break }
            off += n
        }
        let null = open("/dev/null", O_RDWR)
        if null >= 0 {
            dup2(null, 0)
            dup2(null, 1)
            if null > 1 { close(null) }
        }
    }

    /// Checks one control request, then runs its test; never throws, so that no client can
    /// end the server.
    func handle(_ conn: Socket, peer: SocketAddress, line: String, listener: Socket) {
        let words = line.split(separator: " ", omittingEmptySubsequences: true)
        guard words.count >= 2, words[0] == TestRequest.protocolTag else {
            if words.first == "DATA" {
                Server.log("dropped a data connection from \(peer.host): no test is running")
            } else {
                Server.log("dropped a connection from \(peer.host): not a cloudbench-agent request")
                try? conn.writeAll("ERR not a cloudbench-agent/1 request\n")
            }
            return
        }
        switch spent.spend(TestKey(wire: words[1]), runKey: options.token) {
        case .accepted: break
        case .wrong:
            Server.log("refused a control connection from \(peer.host): wrong token")
            try? conn.writeAll("ERR token\n")
            return
        case .spent:
            Server.log("refused a control connection from \(peer.host): a key already used (replayed)")
            try? conn.writeAll("ERR token\n")
            return
        case .full:
            Server.log("refused a control connection from \(peer.host): \(SpentKeys.capacity) tests served; restart the server")
            try? conn.writeAll("ERR token\n")
            return
        }
        let request: TestRequest
        do {
            request = try TestRequest(fields: ControlLine.fields(words.dropFirst(2)))
        } catch {
            Server.log("refused a request from \(peer.host): \(error)")
            try? conn.writeAll("ERR bad request: \(error)\n")
            return
        }
        var sid = ""
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<16 { sid += String(Int.random(in: 0..<16, using: &rng), radix: 16) }
        let session = ServerSession(control: conn, listener: listener, listenAddress: options.listen,
                                    request: request, sessionID: sid, peer: peer, log: { Server.log($0) })
        Server.log("running \(request.test.rawValue) for \(peer.host)")
        // An authenticated test of the run: the host's lease holds while it runs (renewed at
        // its start and end; in between, by the orchestrator as usual).
        if let lease = options.lease { Lease.renew(lease) }
        defer { if let lease = options.lease { Lease.renew(lease) } }
        do {
            try conn.setTimeouts(receive: nil, send: 10)
            let counters = HostCounters.applies(to: request.test) ? HostCounters.sample(toward: peer) : nil
            // The user-space tunnel on this host, when one runs (a `udp` path): its counts over any test.
            let tunnel = options.tunnelStats.map { TunnelCounters.sample(statsFile: $0) }
            switch request.test {
            case .tcpBandwidth:
                try conn.writeAll("OK \(sid)\n")
                try TCPBandwidthTest.serve(session)
            case .tcpLatency:
                try conn.writeAll("OK \(sid)\n")
                try TCPLatencyTest.serve(session)
            case .tcpConnectRequestResponse:
                try conn.writeAll("OK \(sid)\n")
                try TCPConnectRateTest.serve(session)
            case .udpBandwidth, .udpPackets:
                let udp = try UDPBandwidthTest.prepare(options.listen)
                defer { udp.close() }
                try conn.writeAll("OK \(sid)\n")
                try UDPBandwidthTest.serve(session, udp: udp)
            case .http:
                try conn.writeAll("OK \(sid)\n")
                try HTTPTest.serve(session)
            }
            // This host's counters over the test, after the result: the client adds them to detail.cpu.server.
            // (Without host counters, only while a tunnel runs: the client of a `udp` cell waits for it.)
            var fields = counters.map { HostWindow(from: $0, to: $0.again()).fields() } ?? []
            if let file = options.tunnelStats, let tunnel { fields += TunnelWindow.hostFields(since: tunnel, statsFile: file) }
            if !fields.isEmpty { try conn.writeAll(ControlLine.encode("HOST", fields)) }
            Server.log("finished \(request.test.rawValue) for \(peer.host)")
        } catch {
            Server.log("\(request.test.rawValue) for \(peer.host) ended early: \(error)")
            try? conn.writeAll("ERR \(error)\n")
        }
    }
}
