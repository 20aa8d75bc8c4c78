import Syscall

/// tcp_bw: N parallel TCP streams; bytes counted on the receiver over the exact span of the
/// measured window, which opens once the rate has settled.
public enum TCPBandwidthTest {
    static func serve(_ s: ServerSession) throws {
        let r = s.request
        let sockets: [Socket]
        var flows: [Int] = []
        if r.pool != nil {
            let landed = try s.acceptPooled()
            // None of the step's connections landed here: nothing to measure, no GO.
            guard !landed.isEmpty else { return }
            sockets = landed.map(\.socket)
            flows = landed.map(\.flow)
        } else {
            sockets = try s.acceptData(r.bidirectional ? 2 * r.streams : r.streams)
        }
        try s.send("GO\n")
        let window = Window(start: Clock.now(), warmup: r.warmup, duration: r.duration, interval: r.interval,
                            fixedOpening: r.fixedWindow)
        let cutShort: Bool
        if r.bidirectional {
            // The first half carries the client's data to us, the second half ours to it.
            let down = Array(sockets[r.streams...])
            let sending = try WorkerThread<Result<SenderStats, any Error>> {
                Result { try TCPStreams.send(down, window: window, messageSize: r.messageSize,
                                             awaitOpening: awaitOpening(s.control, window)) }
            }
            let received = try TCPStreams.receive(Array(sockets[..<r.streams]), window: window,
                                                  announce: announce(s.control))
            let sent = try sending.join().get()
            cutShort = received.cutShort || sent.cutShort
            if !cutShort { try s.send(ControlLine.encode("RESULT", received.fields() + sent.fields())) }
        } else if r.reverse {
            let stats = try TCPStreams.send(sockets, window: window, messageSize: r.messageSize,
                                            awaitOpening: awaitOpening(s.control, window))
            cutShort = stats.cutShort
            if !cutShort { try s.send(ControlLine.encode("RESULT", stats.fields())) }
        } else {
            var stats = try TCPStreams.receive(sockets, window: window, announce: announce(s.control))
            stats.flows = flows
            cutShort = stats.cutShort
            if !cutShort { try s.send(ControlLine.encode("RESULT", stats.fields())) }
        }
        if cutShort {
            throw AgentError.failed("the client closed its data connections after " + format("%.1f", Clock.now() - window.start) + " s, before the test ended")
        }
    }

    static func run(_ c: ClientSession) throws -> JSON {
        let r = c.request
        if r.bidirectional { return try runBidirectional(c) }
        let sockets = try (0..<r.streams).map { try c.openData($0) }
        try c.awaitGo()
        let window = Window(start: Clock.now(), warmup: r.warmup, duration: r.duration, interval: r.interval)
        let receiver: ReceiverStats, sender: SenderStats
        let resultTimeout = 30.0
        if r.reverse {
            receiver = try TCPStreams.receive(sockets, window: window, announce: announce(c.control))
            guard let s = SenderStats(fields: try c.awaitResult(timeout: resultTimeout)) else {
                throw AgentError.failed("server sent a malformed result")
            }
            sender = s
        } else {
            sender = try TCPStreams.send(sockets, window: window, messageSize: r.messageSize,
                                         awaitOpening: awaitOpening(c.control, window))
            guard let rs = ReceiverStats(fields: try c.awaitResult(timeout: resultTimeout)) else {
                throw AgentError.failed("server sent a malformed result")
            }
            receiver = rs
        }
        if receiver.cutShort || sender.cutShort {
            throw AgentError.failed("the server closed the data connections before the test ended")
        }
        guard receiver.bytesPerSecond != nil else {
            throw AgentError.failed("no bytes arrived in the measured window (is the path up?)")
        }
        return .object(AgentJSON.header(.tcpBandwidth) + fields(r, receiver: receiver, sender: sender))
    }

    /// Both directions at once: the top level describes client → server (as without flags),
    /// `reverse` holds the same figures for server → client.
    static func runBidirectional(_ c: ClientSession) throws -> JSON {
        let r = c.request
        let sockets = try (0..<(2 * r.streams)).map { try c.openData($0) }
        try c.awaitGo()
        let window = Window(start: Clock.now(), warmup: r.warmup, duration: r.duration, interval: r.interval)
        let up = Array(sockets[..<r.streams]), down = Array(sockets[r.streams...])
        let sending = try WorkerThread<Result<SenderStats, any Error>> {
            Result { try TCPStreams.send(up, window: window, messageSize: r.messageSize,
                                         awaitOpening: awaitOpening(c.control, window)) }
        }
        let clientReceived = try TCPStreams.receive(down, window: window, announce: announce(c.control))
        let clientSent = try sending.join().get()
        let result = try c.awaitResult(timeout: 30)
        guard let serverReceived = ReceiverStats(fields: result), let serverSent = SenderStats(fields: result) else {
            throw AgentError.failed("server sent a malformed result")
        }
        if clientReceived.cutShort || clientSent.cutShort {
            throw AgentError.failed("the server closed the data connections before the test ended")
        }
        guard let upRate = serverReceived.bytesPerSecond, let downRate = clientReceived.bytesPerSecond else {
            throw AgentError.failed("no bytes arrived in the measured window in one direction (is the path up?)")
        }
        var upstream = fields(r, receiver: serverReceived, sender: clientSent)
        var reverse = r
        reverse.reverse = true
        let downstream = fields(reverse, receiver: clientReceived, sender: serverSent)
        upstream = upstream.map { $0.0 == "direction" ? ("direction", .string("bidirectional")) : $0 }
        let sum = upRate + downRate
        return .object(AgentJSON.header(.tcpBandwidth) + upstream + [
            ("sum_receiver_bytes_per_second", .double(sum)),
            ("reverse", .object(downstream)),
        ])
    }

    /// The receiver's `OPEN rate=R` on the control connection: its window has opened, at the
    /// settled rate R in bytes per second (`-` when the warm-up ended before a rate was seen).
    static func announce(_ control: Socket) -> (Double?) -> Void {
        { rate in try? control.writeAll(ControlLine.encode("OPEN", [("rate", rate.map { String($0) } ?? "-")])) }
    }

    /// Waits for the receiver's `OPEN` until a little after its warm-up must have ended; the
    /// rate it announced, or nil (no rate, or no line: the sender then opens on its own). Any
    /// other line (an `ERR`) is left for `awaitResult` to report.
    static func awaitOpening(_ control: Socket, _ window: Window) -> () -> Double? {
        {
            let left = window.start + window.warmupLimit + 2 - Clock.now()
            guard left > 0, (try? control.nextBytesAre(Array("OPEN ".utf8), timeout: left)) == true,
                  let line = try? control.readLine(maxBytes: 256, timeout: 2) else { return nil }
            let words = line.split(separator: " ")
            guard words.first == "OPEN", let rate = ControlLine.fields(words.dropFirst())["rate"].flatMap({ Double($0) }),
                  rate > 0, rate < 1e13 else { return nil }
            return rate
        }
    }

    static func fields(_ r: TestRequest, receiver: ReceiverStats, sender: SenderStats) -> [(String, JSON)] {
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
        return [
            ("receiver_bytes_per_second", .double(receiver.bytesPerSecond ?? 0)),
            ("duration_s", .double(r.duration)),
            ("measured_s", .double(receiver.measuredSeconds)),
            ("warmup_s", .double(r.warmup)),
            ("warmup_taken_s", .double(receiver.warmupTaken)),
            ("interval_s", .double(r.interval)),
            ("streams", .int(r.streams)),
            ("message_size", .int(sender.messageSize)),
            ("message_size_adaptive", .bool(sender.adaptive)),
            ("read_size", .int(receiver.readSize)),
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
        ]
    }
}
