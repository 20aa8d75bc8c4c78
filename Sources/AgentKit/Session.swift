#if canImport(Glibc)
import Glibc
#endif
import Syscall

/// One accepted test on the server: its control connection, the listener it takes data
/// connections from, and the session id those connections must present.
public struct ServerSession: Sendable {
    public let control: Socket
    public let listener: Socket
    public let listenAddress: SocketAddress
    public let request: TestRequest
    public let sessionID: String
    public let peer: SocketAddress
    let log: @Sendable (String) -> Void

    /// Accepts `count` data connections that say `DATA <session id> <index>`; anything else that
    /// arrives meanwhile (a second client, garbage) is answered or dropped, never served.
    public func acceptData(_ count: Int, timeout: Double = 10) throws -> [Socket] {
        var sockets: [Socket] = []
        var order: [Int] = []
        let deadline = Clock.now() + timeout
        // Strays that connect now are read beside the data connections, never one after another.
        // Room for all of them at once: a client connects every one before it introduces any.
        let pending = PendingConnections(listener: listener, capacity: Server.pendingCapacity + count, budget: timeout,
                                         maxLine: 256, log: log)
        defer { pending.closeAll() }
        while sockets.count < count {
            // In slices, so that a client that gave up (a group step another server refused) frees
            // this server at once instead of after the timeout.
            guard let (conn, from, line) = try pending.nextLine(until: min(deadline, Clock.now() + 0.25)) else {
                if Clock.now() >= deadline {
                    throw AgentError.failed("only \(sockets.count) of \(count) data connections arrived within \(formatSeconds(timeout)) s")
                }
                if controlClosed() { throw AgentError.failed("the client closed its control connection before its data connections arrived") }
                continue
            }
            let words = line.split(separator: " ")
            if words.count == 3, words[0] == "DATA", words[1] == sessionID, let index = Int(words[2]),
               (0..<count).contains(index), !order.contains(index) {
                sockets.append(conn)
                order.append(index)
            } else if line.hasPrefix(TestRequest.protocolTag) {
                try? conn.writeAll("ERR busy: another test is running\n")
                log("refused a control connection from \(from.host): another test is running")
            } else {
                log("dropped a connection from \(from.host) during a test: not a data connection of this test")
            }
        }
        // Connections may complete their handshakes out of order; the index says which is which.
        return zip(order, sockets).sorted { $0.0 < $1.0 }.map(\.1)
    }

    /// A pooled test (`TestRequest.pool`): the data connections of a group step came through a
    /// balancer that picked this server for some of them. Accepts every `DATA <pool> <flow>` with a
    /// flow below `flows`, each flow once, until the client's `START` on the control connection;
    /// each is told `IN` once taken, and the client's `COUNT` is answered `HAVE <k> <flow>,<flow>,…`
    /// so that it knows when all its connections have landed, and where. `DONE` instead of `START`:
    /// none landed here, no test.
    /// The sockets come back in the order of their flows, with those flows.
    public func acceptPooled(timeout: Double = 60) throws -> [(flow: Int, socket: Socket)] {
        guard let pool = request.pool else { return [] }
        var landed: [(flow: Int, socket: Socket)] = []
        let deadline = Clock.now() + timeout
        let pending = PendingConnections(listener: listener, capacity: Server.pendingCapacity + request.flows, budget: 10,
                                         maxLine: 256, log: log)
        defer { pending.closeAll() }
        var dropped = 0
        while true {
            guard Clock.now() < deadline else {
                throw AgentError.failed("the client neither started nor ended the test within \(formatSeconds(timeout)) s (\(landed.count) data connections had arrived)")
            }
            if let (conn, from, line) = try pending.nextLine(until: min(deadline, Clock.now() + 1), wakeOn: control.fd) {
                let words = line.split(separator: " ")
                if words.count == 3, words[0] == "DATA", words[1] == pool, let flow = Int(words[2]),
                   (0..<request.flows).contains(flow), !landed.contains(where: { $0.flow == flow }) {
                    // Said to the sender, which may be another client's `send` that tries until a server takes it.
                    try? conn.writeAll("IN\n")
                    landed.append((flow, conn))
                } else if line.hasPrefix(TestRequest.protocolTag) {
                    try? conn.writeAll("ERR busy: another test is running\n")
                    log("refused a control connection from \(from.host): another test is running")
                } else {
                    // A balancer's health checks land here too: say so once, not once a second.
                    if dropped == 0 { log("dropped a connection from \(from.host) during a pooled test: not one of its data connections") }
                    dropped += 1
                }
                continue
            }
            guard try control.waitReadable(timeout: 0) else { continue }
            switch try control.readLineResult(maxBytes: 64, timeout: 5) {
            case .line("COUNT"):
                // A flow whose connection closed before the start is taken back: its sender gave up
                // waiting for `IN` and tries again, maybe through the balancer to another server.
                landed.removeAll { $0.socket.peerClosed() }
                let flows = landed.map(\.flow).sorted()
                try control.writeAll("HAVE \(flows.count) \(flows.isEmpty ? "-" : flows.map(String.init).joined(separator: ","))\n")
            case .line("START"):
                return landed.sorted { $0.flow < $1.flow }
            case .line("DONE"):
                for c in landed { c.socket.close() }
                return []
            case .closed:
                for c in landed { c.socket.close() }
                throw AgentError.failed("the client closed its control connection before starting the test")
            default:
                for c in landed { c.socket.close() }
                throw AgentError.failed("the client sent something other than COUNT, START or DONE while its data connections arrived")
            }
        }
    }

    public func send(_ line: String) throws { try control.writeAll(line) }

    /// Whether the client has closed (or reset) the control connection; nothing is consumed.
    func controlClosed() -> Bool { control.peerClosed() }
}

/// The client's side of one accepted test.
public struct ClientSession: Sendable {
    public let control: Socket
    public let server: SocketAddress
    public let request: TestRequest
    public let sessionID: String
    public let connectTimeout: Double

    /// Opens data connection number `index` and introduces it with the session id.
    public func openData(_ index: Int = 0) throws -> Socket {
        let s = try Socket.connect(to: server, timeout: connectTimeout)
        try s.writeAll("DATA \(sessionID) \(index)\n")
        return s
    }

    /// Waits for the server's `GO`; its absence names what went wrong.
    public func awaitGo(timeout: Double = 15) throws {
        let line = try control.readLine(timeout: timeout)
        guard line == "GO" else {
            if let line, line.hasPrefix("ERR ") { throw AgentError.failed("server: \(line.dropFirst(4))") }
            throw AgentError.failed("server at \(server) did not start the test within \(formatSeconds(timeout)) s")
        }
    }

    /// Waits for the server's `RESULT` line.
    public func awaitResult(timeout: Double) throws -> [String: String] {
        var line = try control.readLine(maxBytes: 1 << 20, timeout: timeout)
        // A tcp_bw receiver's `OPEN` that came after the sender stopped waiting for it.
        if line?.hasPrefix("OPEN ") == true { line = try control.readLine(maxBytes: 1 << 20, timeout: timeout) }
        if let fields = ControlLine.result(line) { return fields }
        if let line, line.hasPrefix("ERR ") { throw AgentError.failed("server: \(line.dropFirst(4))") }
        throw AgentError.failed("server at \(server) sent no result within \(formatSeconds(timeout)) s (did it stop?)")
    }
}
