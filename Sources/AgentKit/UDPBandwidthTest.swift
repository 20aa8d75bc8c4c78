#if canImport(Glibc)
import Glibc
#endif
import Syscall

/// udp_bw: datagrams paced at a target rate; the receiver's rate and the loss.
///
/// The UDP socket uses the same port number as the control listener. Each datagram carries
/// the session tag and a sequence number, so stray datagrams are not counted. Datagrams go only
/// to, and are counted only from, the host of the authenticated control connection: a reverse
/// test's hello from elsewhere is ignored (`stray_hellos`), and so is a forward test's data
/// (`foreign_datagrams`), even with the right tag. The sender reports how many it sent on the
/// control connection when done; loss is over the whole run.
public enum UDPBandwidthTest {
    static func tag(_ sessionID: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in sessionID.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return h
    }

    /// The server binds its UDP socket before answering OK, so the client's first datagram
    /// cannot meet a closed port.
    static func prepare(_ listen: SocketAddress) throws -> Socket {
        let s = try Socket.bindUDP(listen)
        // Ask for a large buffer (root may exceed rmem_max): a burst must not read as loss.
        _ = try? s.setOption(SOL_SOCKET, 33 /* SO_RCVBUFFORCE */, 8 << 20)
        if s.getOption(SOL_SOCKET, SO_RCVBUF) < 8 << 20 { _ = try? s.setOption(SOL_SOCKET, SO_RCVBUF, 8 << 20) }
        return s
    }

    static func serve(_ s: ServerSession, udp: Socket) throws {
        let r = s.request
        let tag = tag(s.sessionID)
        if r.reverse {
            // Learn the client's address from its hello, then send to it.
            let deadline = Clock.now() + 10
            var peer: SocketAddress?
            var strangers = 0
            var word = [UInt64](repeating: 0, count: 2)
            while peer == nil {
                let left = deadline - Clock.now()
                guard left > 0, try udp.waitReadable(timeout: left) else {
                    throw AgentError.failed("no UDP hello from the client within 10 s (is UDP blocked?)")
                }
                var storage = sockaddr_storage()
                var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
                let n = withUnsafeMutablePointer(to: &storage) { p in
                    p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sp in
                        word.withUnsafeMutableBytes { (try? Posix.recvfrom(udp.fd, $0.baseAddress!, 16, sp, &len))?.value ?? -1 }
                    }
                }
                guard n >= 8 && word[0] == tag else { continue }
                let from = SocketAddress(storage: storage, length: len)
                // The flood goes only to the address of the authenticated control connection.
                if from.host == s.peer.host { peer = from } else { strangers += 1 }
            }
            if strangers > 0 {
                s.log("ignored \(strangers) UDP hello(s) with this test's tag from addresses other than the client's \(s.peer.host)")
            }
            try udp.connect(peer!)
            try s.send("GO\n")
            let stats = try sendPaced(udp, request: r, tag: tag, start: Clock.now())
            // Stray hellos go in the result, so the user sees that someone else sent them.
            try s.send(ControlLine.encode("SENT", stats + [("stray_hellos", String(strangers))]))
        } else {
            try s.send("GO\n")
            // Data is counted only from the control connection's host (the client's UDP socket
            // is unbound, so its port is not known in advance).
            let stats = try receive(udp, control: s.control, request: r, tag: tag, start: Clock.now(), from: s.peer)
            if let n = stats.first(where: { $0.0 == "foreign_datagrams" }).flatMap({ Int($0.1) }), n > 0 {
                s.log("ignored \(n) udp_bw datagram(s) with this test's tag from addresses other than the client's \(s.peer.host)")
            }
            try s.send(ControlLine.encode("RESULT", stats))
        }
    }

    static func run(_ c: ClientSession) throws -> JSON {
        let r = c.request
        let tag = tag(c.sessionID)
        let udp = try Socket.make(for: c.server, type: Int32(SOCK_DGRAM.rawValue))
        try udp.connect(c.server)
        let fields: [String: String]
        if r.reverse {
            _ = try? udp.setOption(SOL_SOCKET, 33 /* SO_RCVBUFFORCE */, 8 << 20)
            // Say hello until the server has seen it and answers GO.
            let hello: [UInt64] = [tag, 0]
            let deadline = Clock.now() + 10
            while true {
                _ = hello.withUnsafeBytes { try? Posix.send(udp.fd, $0.baseAddress!, 16) }
                if try c.control.waitReadable(timeout: 0.1) { break }
                if Clock.now() > deadline { throw AgentError.failed("server at \(c.server) never received our UDP datagrams (is UDP blocked?)") }
            }
            try c.awaitGo()
            fields = try receive(udp, control: c.control, request: r, tag: tag, start: Clock.now())
                .reduce(into: [:]) { $0[$1.0] = $1.1 }
        } else {
            try c.awaitGo()
            let sent = try sendPaced(udp, request: r, tag: tag, start: Clock.now())
            try c.control.writeAll(ControlLine.encode("SENT", sent))
            fields = try c.awaitResult(timeout: 15)
        }
        // Counts from the peer: whole numbers in range, or the result is refused.
        func num(_ k: String) throws -> Int {
            guard let v = ControlLine.count(fields[k]) else {
                throw AgentError.failed("the server's UDP result has no \(k), or it is not a count")
            }
            return v
        }
        let sentCount = try num("sent_datagrams"), received = try num("received_datagrams")
        let windowBytes = try num("window_bytes")
        return .object(AgentJSON.header(r.test) + [
            ("receiver_bytes_per_second", .double(Double(windowBytes) / r.duration)),
            ("loss_percent", .double(sentCount > 0 ? Double(max(0, sentCount - received)) / Double(sentCount) * 100 : 0)),
            ("target_bytes_per_second", .double(r.bytesPerSecond)),
            ("sender_bytes_per_second", .double(Double(try num("sent_window_bytes")) / r.duration)),
            ("sent_datagrams", .int(sentCount)),
            ("received_datagrams", .int(received)),
            ("duplicates", .int(try num("duplicates"))),
            ("reordered", .int(try num("reordered"))),
            // --reverse: hellos with this test's tag from addresses other than the client's, ignored.
            ("stray_hellos", .int(try num("stray_hellos"))),
            // Forward: data datagrams with this test's tag from addresses other than the client's, not counted.
            ("foreign_datagrams", .int(ControlLine.count(fields["foreign_datagrams"]) ?? 0)),
            // RFC 3550 interarrival jitter at the receiver, µs; absent when fewer than two datagrams carried a send time.
            ("jitter_us", ControlLine.nonNegative(fields["jitter_us"]).flatMap { $0 < 1e9 ? JSON.double($0) : nil } ?? .null),
            ("receiver_bytes", .int(windowBytes)),
            ("message_size", .int(r.effectiveMessageSize)),
            ("duration_s", .double(r.duration)),
            ("warmup_s", .double(r.warmup)),
            ("direction", .string(r.reverse ? "server_to_client" : "client_to_server")),
        ])
    }

    /// The most of its schedule a late sender makes up at once, in seconds. A sender woken late
    /// (a loaded or stolen core) that sent everything it owed in one burst would be dropped by a
    /// token bucket below its rate: a cloud's packet or bandwidth allowance, the lab's nftables
    /// limit (its burst is 10 ms of packets). What it owes beyond this is not sent, and the sender
    /// rate in the record shows the shortfall (`RateBracket` then treats the probe as sender-bound).
    /// 5 ms covers a scheduler's time slice on a busy core: with two busy loops on the lab's two
    /// cores, 2 ms cut a 6,000/s offer by 3-8 % and ended 10 of 10 searches there, while with 5 ms
    /// the searches found the lab's 20,000/s cap (8 of 8).
    static let catchUpSeconds = 0.005

    /// Sends datagrams at `request.bytesPerSecond` for warm-up plus duration, sleeping between them
    /// when ahead of schedule instead of spinning, and never more than `catchUpSeconds` of them back to back.
    static func sendPaced(_ udp: Socket, request r: TestRequest, tag: UInt64, start: Double) throws -> [(String, String)] {
        let size = r.effectiveMessageSize
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64)
        defer { buffer.deallocate() }
        buffer.initializeMemory(as: UInt8.self, repeating: 0x5a, count: size)
        buffer.storeBytes(of: tag, toByteOffset: 0, as: UInt64.self)
        let end = start + r.warmup + r.duration
        let measureFrom = start + r.warmup
        var seq: UInt64 = 0, sentBytes = 0.0, windowBytes = 0
        // What the schedule owed a late sender beyond `catchUpSeconds`, given up rather than sent.
        var forgone = 0.0
        let catchUp = max(Double(size), r.bytesPerSecond * catchUpSeconds)
        while true {
            let now = Clock.now()
            if now >= end { break }
            let due = r.bytesPerSecond * (now - start) - forgone
            if due - sentBytes > catchUp { forgone += due - sentBytes - catchUp }
            if sentBytes >= due {
                Clock.sleep(min(0.001, (sentBytes - due) / r.bytesPerSecond))
                continue
            }
            seq += 1
            buffer.storeBytes(of: seq, toByteOffset: 8, as: UInt64.self)
            // The send time, for the receiver's RFC 3550 jitter (datagrams of 24 bytes or more).
            if size >= 24 { buffer.storeBytes(of: Clock.nanoseconds(), toByteOffset: 16, as: UInt64.self) }
            // A full queue (EAGAIN, ENOBUFS), a refused port (ICMP) or a local firewall's drop (EPERM,
            // e.g. an nftables packet-rate limit on this host's egress) is loss, seen by the receiver.
            do {
                _ = try Posix.send(udp.fd, buffer, size)
            } catch where error.errno == ENOBUFS || error.errno == ECONNREFUSED || error.errno == EPERM {
            } catch {
                throw SystemError(call: "send(udp)", errno: error.errno)
            }
            sentBytes += Double(size)
            if now >= measureFrom { windowBytes += size }
        }
        return [("sent_datagrams", String(seq)), ("sent_window_bytes", String(windowBytes))]
    }

    /// Counts datagrams of this session until the sender says it is done (plus a short drain).
    /// With `from`, only datagrams from that host count; the others with the tag are counted
    /// apart (`foreign_datagrams`). Without, the socket is connected and the kernel filters.
    static func receive(_ udp: Socket, control: Socket, request r: TestRequest, tag: UInt64,
                        start: Double, from sender: SocketAddress? = nil) throws -> [(String, String)] {
        let size = 65_536
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64)
        defer { buffer.deallocate() }
        let window = Window(start: start, warmup: r.warmup, duration: r.duration, interval: r.duration)
        var sequences = SequenceTracker(), windowBytes = 0
        var jitter = InterarrivalJitter()
        var sentInfo: [String: String]?
        var foreign = 0
        var source = sockaddr_storage()
        var drainUntil = Double.infinity
        let giveUp = window.measureEnd + 15
        var fds = [pollfd(fd: udp.fd, events: Int16(POLLIN), revents: 0),
                   pollfd(fd: control.fd, events: Int16(POLLIN), revents: 0)]
        while true {
            let now = Clock.now()
            if now >= drainUntil || now >= giveUp { break }
            let wait = min(drainUntil, giveUp) - now
            _ = try Posix.poll(&fds, until: Deadline(seconds: max(0.001, min(wait, 0.2))))
            if fds[0].revents != 0 {
                while true {
                    // Nothing left (EAGAIN), or an ICMP error queued on the socket: done for now.
                    var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
                    let received = withUnsafeMutablePointer(to: &source) { p in
                        p.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                            try? Posix.recvfrom(udp.fd, buffer, size, flags: Int32(MSG_DONTWAIT), $0, &length)
                        }
                    }
                    guard let got = received?.value else { break }
                    if got < 16 { continue }
                    guard buffer.load(fromByteOffset: 0, as: UInt64.self) == tag else { continue }
                    if let sender, !sender.sameHost(source) {
                        foreign += 1
                        continue
                    }
                    let t = Clock.now()
                    // Each sequence number once: a duplicate adds neither a datagram nor bytes.
                    guard sequences.note(buffer.load(fromByteOffset: 8, as: UInt64.self)) == .new else { continue }
                    if window.bucket(t) != nil {
                        windowBytes += got
                        if got >= 24 { jitter.note(sent: buffer.load(fromByteOffset: 16, as: UInt64.self), received: Clock.nanoseconds()) }
                    }
                }
            }
            if fds[1].revents != 0 && sentInfo == nil {
                guard let line = try control.readLine(timeout: 2) else {
                    throw AgentError.failed("the peer closed the control connection during udp_bw")
                }
                let words = line.split(separator: " ")
                if words.first == "SENT" {
                    sentInfo = ControlLine.fields(words.dropFirst())
                    // Datagrams still in flight get a moment to land before loss is counted.
                    drainUntil = Clock.now() + 0.5
                    fds[1].events = 0
                }
            }
        }
        guard let sentInfo else { throw AgentError.failed("the sender never reported the end of udp_bw") }
        return [("sent_datagrams", sentInfo["sent_datagrams"] ?? "0"),
                ("sent_window_bytes", sentInfo["sent_window_bytes"] ?? "0"),
                ("received_datagrams", String(sequences.unique)), ("window_bytes", String(windowBytes)),
                ("duplicates", String(sequences.duplicates)), ("reordered", String(sequences.reordered)),
                ("stray_hellos", sentInfo["stray_hellos"] ?? "0"), ("foreign_datagrams", String(foreign))]
            + (jitter.microseconds.map { [("jitter_us", String($0))] } ?? [])
    }
}
