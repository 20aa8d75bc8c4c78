#if canImport(Glibc)
import Glibc
#endif
import Syscall

/// A group step of tcp_bw (`run --servers A,B,…`): one flow to or from every server at once.
///
/// The barrier is this process: every server accepts its test and every data connection is open
/// before any server is told to go, and the window is one. With `--reverse` (fan-in: every server
/// sends to this host) one receiver counts all flows over the same window, opened once their sum has
/// settled. Without it (fan-out, through a middle) this host sends to every server, and each server
/// receives over a window opened exactly `warmup` after its GO (`TestRequest.fixedWindow`), the GOs
/// a few milliseconds apart: the same window on every receiver.
///
/// Each server keeps its own run key and every test its single-use key; data connections go to
/// `dataAddresses` when a relay stands in front of the servers (`--via`).
public enum GroupBandwidthTest {
    struct Peer {
        var address: SocketAddress
        var session: ClientSession
        var sockets: [Socket] = []
        /// A pooled step: the flows that landed on this server, this host's or another client's.
        var landed: [Int] = []
    }

    public static func run(_ o: RunOptions) throws -> JSON {
        signal(SIGPIPE, SIG_IGN)
        var request = o.request
        request.fixedWindow = !request.reverse
        if let pool = o.pool {
            request.pool = pool
            request.flows = o.flows
        }
        var peers: [Peer] = []
        defer { for p in peers { p.session.control.close() } }
        try acceptAll(o, request, into: &peers)
        if o.pool != nil {
            try landPool(o, request, &peers)
        } else {
            try connectAll(o, request, &peers)
        }
        let active = peers.filter { o.pool == nil || !$0.landed.isEmpty }
        for (i, p) in active.enumerated() {
            do { try p.session.awaitGo() } catch { throw AgentError.failed("\(o.pool == nil ? "flow" : "server") \(i + 1) (\(p.address)): \(error)") }
        }
        // This host's counters over the step, beside each server's (its HOST line after its result).
        let counters = HostCounters.sample(toward: peers.first?.address)
        let window = Window(start: Clock.now(), warmup: request.warmup, duration: request.duration, interval: request.interval,
                            fixedOpening: request.fixedWindow)
        let m = request.reverse ? try receiveAll(active, window: window)
            : try sendAll(active, window: window, messageSize: request.messageSize, what: o.pool == nil ? "flow" : "server")
        let mine = HostWindow(from: counters, to: counters.again())
        // Each server's HOST line follows its result.
        let theirs = active.map { p in Client.serverFields(p.session.control).flatMap { HostWindow(fields: $0) } }
        if m.receiver.cutShort || m.senders.contains(where: { $0.cutShort }) {
            throw AgentError.failed("a flow's data connections closed before the test ended")
        }
        // A starved flow is what fairness is for: it counts as 0. Nothing at all is a path that is down.
        if m.flowRates.allSatisfy({ $0 == nil }) {
            throw AgentError.failed("no flow's bytes arrived in the measured window (is the path up?)")
        }
        var whole = request
        whole.streams = o.pool != nil ? request.flows : request.streams * peers.count
        var fields = TCPBandwidthTest.fields(whole, receiver: m.receiver, sender: merged(m.senders))
        // The hub's CPU is weighed against what it sent or received: in a pooled step, its own flows.
        var hubRate = m.receiver.bytesPerSecond
        if o.pool != nil {
            fields += pooledFields(peers, active: active, measured: m, flows: request.flows)
            let own = Set(o.ownFlows.map(\.flow))
            hubRate = m.receivers.flatMap(\.flowRates).filter { own.contains($0.flow) }.compactMap(\.rate).reduce(0, +)
            // The sender_* figures (bytes, retransmits, RTT, CPU) are this host's flows only when
            // other clients sent the rest.
            if own.count < request.flows { fields.append(("sender_flows", .array(own.sorted().map { .int($0) }))) }
        } else {
            fields.append(("flows", JSON .array(peers.indices.map { i in
                .object([("server", .string(peers[i].address.description)), ("bytes_per_second", .double(m.flowRates[i] ?? 0)),
                         ("retransmits", .int(m.senders[i].retransmits)), ("rtt_us", .double(m.senders[i].rttMicroseconds))])
            })))
        }
        fields.append(("window", .string(request.fixedWindow ? "fixed" : "settled")))
        fields.append(("hosts", .array([hostJSON("hub", address: nil, mine, rate: hubRate)]
            + zip(active.indices, theirs).map { i, w in
                hostJSON("server", address: active[i].address, w, rate: m.flowRates.indices.contains(i) ? m.flowRates[i] : nil)
            })))
        return .object(AgentJSON.header(.tcpBandwidth) + fields)
    }

    /// Every server accepts its test first: one that refuses fails the step before any data flows.
    static func acceptAll(_ o: RunOptions, _ request: TestRequest, into peers: inout [Peer]) throws {
        for (i, address) in o.peers.enumerated() {
            let control: Socket
            do { control = try Socket.connect(to: address, timeout: o.connectTimeout) } catch {
                throw AgentError.failed("flow \(i + 1): \(error)")
            }
            try control.setTimeouts(receive: nil, send: 10)
            let key = TestKey.fresh(runKey: o.peerTokens[i])
            try control.writeAll("\(TestRequest.protocolTag) \(key.wire) \(request.encodedFields())\n")
            let reply = try control.readLine(timeout: 10)
            guard let reply, reply.hasPrefix("OK ") else {
                control.close()
                let said = reply.map { $0.hasPrefix("ERR ") ? String($0.dropFirst(4)) : "an answer that is not cloudbench-agent/1" } ?? "no answer within 10 s"
                throw AgentError.failed("flow \(i + 1): server at \(address) refused the test: \(said)")
            }
            let words = reply.split(separator: " ")
            guard words.count == 2 else { throw AgentError.failed("flow \(i + 1): server at \(address) gave a malformed answer") }
            let data = o.dataAddresses.isEmpty ? address : o.dataAddresses[i]
            peers.append(Peer(address: address, session: ClientSession(control: control, server: data, request: request,
                                                                      sessionID: String(words[1]), connectTimeout: o.connectTimeout)))
        }
    }

    /// Every data connection is connected first and introduced after, in one tight loop: each
    /// server sends GO (and starts its clock) once its own have arrived, so the GOs leave within
    /// the time of these writes, not one handshake per flow apart.
    static func connectAll(_ o: RunOptions, _ request: TestRequest, _ peers: inout [Peer]) throws {
        for i in peers.indices {
            do { peers[i].sockets = try (0..<request.streams).map { _ in try Socket.connect(to: peers[i].session.server, timeout: o.connectTimeout) } } catch {
                let via = peers[i].session.server.description == peers[i].address.description ? "" : " through \(peers[i].session.server)"
                throw AgentError.failed("flow \(i + 1) (\(peers[i].address)): a data connection\(via) failed: \(error)")
            }
        }
        for (i, p) in peers.enumerated() {
            for (index, socket) in p.sockets.enumerated() {
                do { try socket.writeAll("DATA \(p.session.sessionID) \(index)\n") } catch {
                    throw AgentError.failed("flow \(i + 1) (\(p.address)): its data connections closed before the test: \(error)")
                }
            }
        }
    }

    /// One host's CPU and NIC over the step: `role` hub (this host) or server; the CPU seconds per
    /// GB are of `rate`, the payload that host sent or received (on the hub, the flows it sent or
    /// received itself).
    static func hostJSON(_ role: String, address: SocketAddress?, _ w: HostWindow?, rate: Double?) -> JSON {
        var out: [(String, JSON)] = [("role", .string(role))]
        if let address { out.append(("server", .string(address.description))) }
        guard let w else { return .object(out + [("host_cpu_absent", .string(ProcStat.Absent.notSent.sentence))]) }
        out += w.cpuFields(payloadBytesPerSecond: rate)
        if let nic = w.nic { out.append(("nic", NICWindow.json(nic))) }
        return .object(out)
    }

    /// What a step measured: every flow's receiving as one, each flow's rate, each flow's sender.
    struct Measured {
        var receiver: ReceiverStats
        var flowRates: [Double?]
        var senders: [SenderStats]
        /// fan-out and through: each server's own receiving, in the order of the peers.
        var receivers: [ReceiverStats] = []
    }

    /// fan-in: every server sends; this host receives all flows over one window.
    static func receiveAll(_ peers: [Peer], window: Window) throws -> Measured {
        let received = try TCPStreams.receive(peers.flatMap(\.sockets), window: window) { rate in
            // Each sender sizes its writes to its share of the sum.
            let share = rate.map { $0 / Double(peers.count) }
            for p in peers { TCPBandwidthTest.announce(p.session.control)(share) }
        }
        var rates: [Double?] = [], senders: [SenderStats] = []
        var offset = 0
        for (i, p) in peers.enumerated() {
            let fields: [String: String]
            do { fields = try p.session.awaitResult(timeout: 30) } catch { throw AgentError.failed("flow \(i + 1) (\(p.address)): \(error)") }
            guard let sent = SenderStats(fields: fields) else { throw AgentError.failed("flow \(i + 1) (\(p.address)): a malformed result") }
            senders.append(sent)
            let mine = received.streamRates[offset..<(offset + p.sockets.count)].compactMap { $0 }
            offset += p.sockets.count
            rates.append(mine.isEmpty ? nil : mine.reduce(0, +))
        }
        return Measured(receiver: received, flowRates: rates, senders: senders)
    }

    /// fan-out and through: this host sends its flows (a thread per server it sends to) while every
    /// server receives; each server's result comes back. In a pooled step a server may receive only
    /// other clients' flows (no thread here), and its result says each flow's rate. `what` names a
    /// server in errors: `flow` when each server is one flow, `server` in a pooled step.
    static func sendAll(_ peers: [Peer], window: Window, messageSize: Int, what: String = "flow") throws -> Measured {
        let threads = try peers.map { p in
            try WorkerThread<Result<SenderStats, any Error>?> {
                p.sockets.isEmpty ? nil : Result { try TCPStreams.send(p.sockets, window: window, messageSize: messageSize,
                                                                       awaitOpening: TCPBandwidthTest.awaitOpening(p.session.control, window)) }
            }
        }
        let senders = try threads.compactMap { try $0.join()?.get() }
        var receivers: [ReceiverStats] = []
        for (i, p) in peers.enumerated() {
            let fields: [String: String]
            do { fields = try p.session.awaitResult(timeout: 30) } catch { throw AgentError.failed("\(what) \(i + 1) (\(p.address)): \(error)") }
            guard let received = ReceiverStats(fields: fields) else { throw AgentError.failed("\(what) \(i + 1) (\(p.address)): a malformed result") }
            receivers.append(received)
        }
        return Measured(receiver: merged(receivers), flowRates: receivers.map(\.bytesPerSecond), senders: senders, receivers: receivers)
    }

    /// The flows' receivers as one: rates, bytes, CPU and intervals summed, times at their longest.
    static func merged(_ r: [ReceiverStats]) -> ReceiverStats {
        let count = r.map(\.intervals.count).max() ?? 0
        var intervals = [Int](repeating: 0, count: count)
        for s in r { for (i, b) in s.intervals.enumerated() { intervals[i] += b } }
        let rates = r.compactMap(\.bytesPerSecond)
        var out = ReceiverStats(intervals: intervals, totalBytes: r.reduce(0) { $0 + $1.totalBytes },
                             bytesPerSecond: rates.isEmpty ? nil : rates.reduce(0, +),
                             measuredSeconds: r.map(\.measuredSeconds).max() ?? 0, warmupTaken: r.map(\.warmupTaken).max() ?? 0,
                             readSize: r.first?.readSize ?? 0,
                             cpu: r.reduce(CPUTime(user: 0, system: 0)) { $0 + $1.cpu },
                             elapsed: r.map(\.elapsed).max() ?? 0)
        out.cutShort = r.contains { $0.cutShort }
        return out
    }

    /// The flows' senders as one: bytes, retransmits and CPU summed, the RTT their mean.
    static func merged(_ s: [SenderStats]) -> SenderStats {
        var out = SenderStats(windowBytes: s.reduce(0) { $0 + $1.windowBytes }, totalBytes: s.reduce(0) { $0 + $1.totalBytes },
                              retransmits: s.reduce(0) { $0 + $1.retransmits },
                              rttMicroseconds: s.isEmpty ? 0 : s.reduce(0) { $0 + $1.rttMicroseconds } / Double(s.count),
                              mss: s.map(\.mss).max() ?? 0, pathMTU: s.map(\.pathMTU).max() ?? 0,
                              cpu: s.reduce(CPUTime(user: 0, system: 0)) { $0 + $1.cpu },
                              elapsed: s.map(\.elapsed).max() ?? 0, cutShort: s.contains { $0.cutShort })
        out.retransmitsTotal = s.reduce(0) { $0 + $1.retransmitsTotal }
        out.messageSize = s.map(\.messageSize).max() ?? 0
        out.adaptive = s.first?.adaptive ?? false
        return out
    }
}
