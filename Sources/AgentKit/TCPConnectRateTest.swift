#if canImport(Glibc)
import Glibc
#endif
import Syscall

/// tcp_crr: connect, request, response, close — one new TCP connection per transaction, as
/// netperf's TCP_CRR, an HTTP/1.0 client or a load balancer's health check does it.
///
/// Each transaction opens a connection to the server's port, sends a request of
/// `max(8, message size)` bytes whose first 8 are the session's tag, reads the server's response
/// of `message size` bytes and the server's close, and closes. The server closes first (as an
/// HTTP/1.0 server does), so the client's ports do not pile up in TIME_WAIT. Connections without
/// the tag are closed unanswered and counted (`strays`). The figure is the transactions completed
/// in the window per second, with the percentiles of their times.
public enum TCPConnectRateTest {
    /// How long the server waits for a connection's request, and the client for a response.
    static let transactionTimeout = 5.0

    static func requestSize(_ r: TestRequest) -> Int { max(8, r.effectiveMessageSize) }

    static func serve(_ s: ServerSession) throws {
        let r = s.request
        let tag = UDPBandwidthTest.tag(s.sessionID)
        let size = r.effectiveMessageSize, requestBytes = requestSize(r)
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: max(size, requestBytes), alignment: 64)
        defer { buffer.deallocate() }
        buffer.initializeMemory(as: UInt8.self, repeating: 0x62, count: max(size, requestBytes))
        try s.send("GO\n")
        let cpu0 = CPUTime.current(), t0 = Clock.now()
        let giveUp = t0 + r.warmup + r.duration + transactionTimeout + 10
        var served = 0, strays = 0
        var fds = [pollfd(fd: s.listener.fd, events: Int16(POLLIN), revents: 0),
                   pollfd(fd: s.control.fd, events: Int16(POLLIN), revents: 0)]
        loop: while Clock.now() < giveUp {
            _ = try Posix.poll(&fds, until: Deadline(seconds: 0.2))
            // The client's DONE (or its close) ends the test.
            if fds[1].revents != 0 { break loop }
            guard fds[0].revents != 0, let (conn, _) = try s.listener.accept(timeout: 0) else { continue }
            defer { conn.close() }
            try? conn.setTimeouts(receive: transactionTimeout, send: transactionTimeout)
            guard (try? conn.readExactly(buffer, requestBytes)) == true,
                  buffer.load(fromByteOffset: 0, as: UInt64.self) == tag else {
                strays += 1
                continue
            }
            buffer.storeBytes(of: UInt64(0x6262_6262_6262_6262), toByteOffset: 0, as: UInt64.self)
            if (try? conn.writeAll(UnsafeRawBufferPointer(start: buffer, count: size))) != nil { served += 1 }
        }
        if strays > 0 { s.log("closed \(strays) connection(s) without this test's tag during tcp_crr") }
        let cpu = CPUTime.current() - cpu0
        // The client's DONE line, read so the RESULT answers it.
        _ = try? s.control.readLine(timeout: 1)
        try s.send(ControlLine.encode("RESULT", [("served", String(served)), ("strays", String(strays)),
                                                 ("cpu_user", String(cpu.user)), ("cpu_sys", String(cpu.system))]))
    }

    static func run(_ c: ClientSession) throws -> JSON {
        let r = c.request
        try c.awaitGo()
        let tag = UDPBandwidthTest.tag(c.sessionID)
        let size = r.effectiveMessageSize, requestBytes = requestSize(r)
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: max(size, requestBytes) + 1, alignment: 64)
        defer { buffer.deallocate() }
        let cpu0 = CPUTime.current()
        let start = Clock.nanoseconds()
        let measureFrom = start + UInt64(r.warmup * 1e9)
        let endAfter = measureFrom + UInt64(r.duration * 1e9)
        var times: [UInt64] = []
        times.reserveCapacity(1 << 16)
        var last = start
        while last < endAfter {
            let before = Clock.nanoseconds()
            let conn = try Socket.connect(to: c.server, timeout: min(c.connectTimeout, transactionTimeout))
            defer { conn.close() }
            try conn.setNoDelay()
            try conn.setTimeouts(receive: transactionTimeout, send: transactionTimeout)
            buffer.initializeMemory(as: UInt8.self, repeating: 0x61, count: requestBytes)
            buffer.storeBytes(of: tag, toByteOffset: 0, as: UInt64.self)
            try conn.writeAll(UnsafeRawBufferPointer(start: buffer, count: requestBytes))
            guard try conn.readExactly(buffer, size) else {
                throw AgentError.failed("the server closed a tcp_crr connection before its response")
            }
            // The server's close (end of file) ends the transaction.
            guard (try? conn.readExactly(buffer, 1)) == false else {
                throw AgentError.failed("the server sent more than the \(size)-byte response of tcp_crr")
            }
            let after = Clock.nanoseconds()
            last = after
            if before >= measureFrom { times.append(after - before) }
            if times.count >= AgentLimits.count.upperBound { break }
        }
        let cpu = CPUTime.current() - cpu0
        let elapsed = Double(Clock.nanoseconds() - start) * 1e-9
        try c.control.writeAll("DONE\n")
        let server = try c.awaitResult(timeout: 15)
        guard let p = Percentiles(times.map { Double($0) * 1e-3 }) else {
            throw AgentError.failed("no tcp_crr transaction completed after the warm-up")
        }
        let measured = Double(last - measureFrom) * 1e-9
        return .object(AgentJSON.header(.tcpConnectRequestResponse) + [
            ("connections_per_second", .double(Double(p.count) / max(measured, 1e-9))),
            ("transactions", .int(p.count)),
            ("transaction_us", p.json()),
            ("message_size", .int(size)),
            ("duration_s", .double(r.duration)),
            ("warmup_s", .double(r.warmup)),
            ("measured_s", .double(measured)),
            ("strays", .int(ControlLine.count(server["strays"]) ?? 0)),
            ("cpu", .object([
                ("client", .object([("user_s", .double(cpu.user)), ("system_s", .double(cpu.system)),
                                    ("percent", .double((cpu.user + cpu.system) / elapsed * 100))])),
                ("server", .object([("user_s", .double(Double(server["cpu_user"] ?? "") ?? 0)),
                                    ("system_s", .double(Double(server["cpu_sys"] ?? "") ?? 0))])),
            ])),
        ])
    }
}
