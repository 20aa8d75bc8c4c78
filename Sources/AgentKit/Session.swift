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
        let pending = PendingConnections(listener: listener, capacity: Server.pendingCapacity, budget: 2,
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

    public func send(_ line: String) throws { try control.writeAll(line) }

    /// Whether the client has closed (or reset) the control connection; nothing is consumed.
    func controlClosed() -> Bool {
        var byte: UInt8 = 0
        let n = recv(control.fd, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT))
        return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
    }
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
