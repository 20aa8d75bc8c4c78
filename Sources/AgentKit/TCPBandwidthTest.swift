/// tcp_bw: N parallel TCP streams; bytes counted on the receiver in the measured window.
public enum TCPBandwidthTest {
    static func serve(_ s: ServerSession) throws {
        let r = s.request
        let sockets = try s.acceptData(r.streams)
        try s.send("GO\n")
        let window = Window(start: Clock.now(), warmup: r.warmup, duration: r.duration, interval: r.interval)
        let cutShort: Bool
        if r.reverse {
            let stats = try TCPStreams.send(sockets, window: window, messageSize: r.effectiveMessageSize)
            cutShort = stats.cutShort
            if !cutShort { try s.send(ControlLine.encode("RESULT", stats.fields())) }
        } else {
            let stats = try TCPStreams.receive(sockets, window: window)
            cutShort = stats.cutShort
            if !cutShort { try s.send(ControlLine.encode("RESULT", stats.fields())) }
        }
        if cutShort {
            throw AgentError.failed("the client closed its data connections after " + format("%.1f", Clock.now() - window.start) + " s, before the test ended")
        }
    }

    static func run(_ c: ClientSession) throws -> JSON {
        let r = c.request
        let sockets = try (0..<r.streams).map { _ in try c.openData() }
        try c.awaitGo()
        let window = Window(start: Clock.now(), warmup: r.warmup, duration: r.duration, interval: r.interval)
        let receiver: ReceiverStats, sender: SenderStats
        let resultTimeout = 30.0
        if r.reverse {
            receiver = try TCPStreams.receive(sockets, window: window)
            guard let s = SenderStats(fields: try c.awaitResult(timeout: resultTimeout)) else {
                throw AgentError.failed("server sent a malformed result")
            }
            sender = s
        } else {
            sender = try TCPStreams.send(sockets, window: window, messageSize: r.effectiveMessageSize)
            guard let rs = ReceiverStats(fields: try c.awaitResult(timeout: resultTimeout)) else {
                throw AgentError.failed("server sent a malformed result")
            }
            receiver = rs
        }
        if receiver.cutShort || sender.cutShort {
            throw AgentError.failed("the server closed the data connections before the test ended")
        }
        guard receiver.windowBytes > 0 else {
            throw AgentError.failed("no bytes arrived in the measured window (is the path up?)")
        }
        return json(r, receiver: receiver, sender: sender)
    }

    static func json(_ r: TestRequest, receiver: ReceiverStats, sender: SenderStats) -> JSON {
        var intervals: [JSON] = []
        for (i, b) in receiver.intervals.enumerated() {
            let start = Double(i) * r.interval
            let end = min(r.duration, start + r.interval)
            intervals.append(.object([
                ("start_s", .double(start)), ("end_s", .double(end)), ("bytes", .int(b)),
                ("bytes_per_second", .double(Double(b) / (end - start))),
            ]))
        }
        func cpu(_ c: CPUTime, _ elapsed: Double) -> JSON {
            .object([("user_s", .double(c.user)), ("system_s", .double(c.system)),
                     ("percent", .double(elapsed > 0 ? (c.user + c.system) / elapsed * 100 : 0))])
        }
        let clientIsSender = !r.reverse
        let senderCPU = cpu(sender.cpu, sender.elapsed), receiverCPU = cpu(receiver.cpu, receiver.elapsed)
        return .object(AgentJSON.header(.tcpBandwidth) + [
            ("receiver_bytes_per_second", .double(Double(receiver.windowBytes) / r.duration)),
            ("duration_s", .double(r.duration)),
            ("warmup_s", .double(r.warmup)),
            ("interval_s", .double(r.interval)),
            ("streams", .int(r.streams)),
            ("message_size", .int(r.effectiveMessageSize)),
            ("direction", .string(r.reverse ? "server_to_client" : "client_to_server")),
            ("intervals", .array(intervals)),
            ("sender_bytes", .int(sender.windowBytes)),
            ("receiver_bytes", .int(receiver.windowBytes)),
            ("sender_total_bytes", .int(sender.totalBytes)),
            ("receiver_total_bytes", .int(receiver.totalBytes)),
            ("retransmits", .int(sender.retransmits)),
            ("retransmits_total", .int(sender.retransmitsTotal)),
            ("rtt_us", .double(sender.rttMicroseconds)),
            ("mss", .int(sender.mss)),
            ("mtu", .int(sender.pathMTU)),
            ("cpu", .object([
                ("client", clientIsSender ? senderCPU : receiverCPU),
                ("server", clientIsSender ? receiverCPU : senderCPU),
            ])),
        ])
    }
}
