#if canImport(Glibc)
import Glibc
#endif
import Syscall

/// tcp_lat: ping-pong of small messages over one TCP_NODELAY connection.
///
/// `latency_us` is qperf's figure (mean round trip ÷ 2); the percentiles are of the exact
/// round trips measured after the warm-up.
///
/// The minimum round trips (`--count`, 10,000 by default) are sized to the time budget: past
/// `--duration` the run goes on only while the round trips still missing fit in
/// `extraTimeLimit` at the pace measured so far. On a path of a few ms the run ends with the
/// window and reports fewer round trips (`round_trips` < `min_round_trips`) instead of running
/// for a minute past the time cloudbench gives the cell (warm-up + duration + 30 s).
public enum TCPLatencyTest {
    /// Longest a run may go on past `--duration` to collect the minimum round trips.
    static let extraTimeLimit = 10.0

    static func serve(_ s: ServerSession) throws {
        let r = s.request
        let sockets = try s.acceptData(1)
        let socket = sockets[0]
        try socket.setNoDelay()
        try socket.setTimeouts(receive: 1, send: 5)
        try s.send("GO\n")
        let cpu0 = CPUTime.current(), t0 = Clock.now()
        let giveUp = t0 + r.warmup + r.duration + extraTimeLimit + 10
        let size = r.effectiveMessageSize
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64)
        defer { buffer.deallocate() }
        let fd = socket.fd
        // The echo half of the measured loop: direct recv/send, as in `run` below.
        echo: while Clock.now() < giveUp {
            var got = 0
            while got < size {
                let n = recv(fd, buffer + got, size - got, 0)
                if n > 0 { got += n; continue }
                if n < 0 && (errno == EAGAIN || errno == EINTR) {
                    if Clock.now() >= giveUp { break echo }
                    continue
                }
                break echo  // the client closed: the test is over
            }
            var sent = 0
            while sent < size {
                let n = Glibc.send(fd, buffer + sent, size - sent, Int32(MSG_NOSIGNAL))
                if n > 0 { sent += n; continue }
                if n < 0 && errno == EINTR { continue }
                break echo
            }
        }
        socket.close()
        let cpu = CPUTime.current() - cpu0
        try s.send(ControlLine.encode("RESULT", [("cpu_user", String(cpu.user)), ("cpu_sys", String(cpu.system)),
                                                 ("elapsed", String(Clock.now() - t0))]))
    }

    static func run(_ c: ClientSession) throws -> JSON {
        let r = c.request
        let socket = try c.openData()
        try socket.setNoDelay()
        try socket.setTimeouts(receive: 5, send: 5)
        try c.awaitGo()
        let size = r.effectiveMessageSize
        let minimum = r.effectiveCount
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64)
        defer { buffer.deallocate() }
        buffer.initializeMemory(as: UInt8.self, repeating: 0x61, count: size)
        let fd = socket.fd
        let cpu0 = CPUTime.current()
        let start = Clock.nanoseconds()
        let measureFrom = start + UInt64(r.warmup * 1e9)
        let endAfter = measureFrom + UInt64(r.duration * 1e9)
        let hardEnd = endAfter + UInt64(extraTimeLimit * 1e9)
        var rtts: [UInt64] = []
        rtts.reserveCapacity(1 << 20)
        var last = start
        // Direct send/recv, one clock read per round trip: the loop is what tcp_lat measures,
        // so it does nothing qperf's does not (see TCPStreams for why `Posix` is bypassed).
        while true {
            let before = last
            var sent = 0
            while sent < size {
                let n = Glibc.send(fd, buffer + sent, size - sent, Int32(MSG_NOSIGNAL))
                if n > 0 { sent += n; continue }
                if n < 0 && errno == EINTR { continue }
                throw AgentError.failed("the server closed the latency connection (\(String(cString: strerror(errno))))")
            }
            var got = 0
            while got < size {
                let n = recv(fd, buffer + got, size - got, 0)
                if n > 0 { got += n; continue }
                if n < 0 && errno == EINTR { continue }
                if n < 0 && errno == EAGAIN { throw AgentError.failed("no reply from the server within 5 s during tcp_lat") }
                throw AgentError.failed("the server closed the latency connection")
            }
            let after = Clock.nanoseconds()
            last = after
            if before >= measureFrom { rtts.append(after - before) }
            if after >= endAfter && (rtts.count >= minimum || after >= hardEnd
                                     || !Self.fits(missing: minimum - rtts.count, done: rtts.count,
                                                   took: after - measureFrom, left: hardEnd - after)) { break }
        }
        let cpu = CPUTime.current() - cpu0
        let elapsed = Double(Clock.nanoseconds() - start) * 1e-9
        socket.close()
        let server = try c.awaitResult(timeout: 15)
        guard let p = Percentiles(rtts.map { Double($0) * 1e-3 }) else {
            throw AgentError.failed("no round trips completed after the warm-up")
        }
        let serverCPU = JSON.object([
            ("user_s", .double(Double(server["cpu_user"] ?? "") ?? 0)),
            ("system_s", .double(Double(server["cpu_sys"] ?? "") ?? 0)),
        ])
        return .object(AgentJSON.header(.tcpLatency) + [
            ("latency_us", .double(p.mean / 2)),
            ("round_trips", .int(p.count)),
            ("rtt_us", p.json()),
            ("message_size", .int(size)),
            ("duration_s", .double(r.duration)),
            ("warmup_s", .double(r.warmup)),
            ("measured_s", .double(Double(last - measureFrom) * 1e-9)),
            ("min_round_trips", .int(minimum)),
            ("cpu", .object([
                ("client", .object([("user_s", .double(cpu.user)), ("system_s", .double(cpu.system)),
                                    ("percent", .double((cpu.user + cpu.system) / elapsed * 100))])),
                ("server", serverCPU),
            ])),
        ])
    }

    /// Whether `missing` more round trips, at the pace of `done` in `took` ns, fit in `left` ns.
    static func fits(missing: Int, done: Int, took: UInt64, left: UInt64) -> Bool {
        guard done > 0 else { return true }
        return Double(took) / Double(done) * Double(missing) <= Double(left)
    }
}
