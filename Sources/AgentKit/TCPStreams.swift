#if canImport(Glibc)
import Glibc
#endif

/// The tcp_bw data path: one pthread per stream on each side.
public enum TCPStreams {
    /// Large reads: fewer syscalls per byte. (128 KiB and 256 KiB measured no faster on veth.)
    static let recvBufferSize = 1 << 20

    /// Receives on every socket until the window ends, counting bytes against CLOCK_MONOTONIC
    /// by the time each read completed, then resets the connections so the sender stops.
    public static func receive(_ sockets: [Socket], window: Window) throws -> ReceiverStats {
        let cpu0 = CPUTime.current()
        let threads = try sockets.map { socket in
            try WorkerThread<([Int], Int, Bool)> { receiveOne(socket, window: window) }
        }
        var intervals = [Int](repeating: 0, count: window.intervalCount)
        var total = 0
        var cutShort = false
        for t in threads {
            let (b, n, early) = t.join()
            for i in b.indices { intervals[i] += b[i] }
            total += n
            cutShort = cutShort || early
        }
        var stats = ReceiverStats(intervals: intervals, totalBytes: total, cpu: CPUTime.current() - cpu0,
                                  elapsed: Clock.now() - window.start)
        stats.cutShort = cutShort
        return stats
    }

    private static func receiveOne(_ socket: Socket, window: Window) -> ([Int], Int, Bool) {
        // A large buffer: fewer reads per byte, so the receiver is never what limits a fast link.
        let size = recvBufferSize
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64)
        defer { buffer.deallocate() }
        var buckets = [Int](repeating: 0, count: window.intervalCount)
        var total = 0
        try? socket.setTimeouts(receive: 0.2, send: nil)
        // The hot loops call recv/send directly rather than through `Sys`: EAGAIN (the
        // timeout that lets a thread look at the clock), EOF and a peer's reset are how a
        // test ends, not errors, and the loop must cost nothing beyond the syscall.
        let fd = socket.fd
        var early = false
        while true {
            let n = recv(fd, buffer, size, 0)
            let t = Clock.now()
            if n > 0 {
                total += n
                if let b = window.bucket(t) { buckets[b] += n }
            } else if n == 0 {
                early = t < window.measureEnd
                break
            } else {
                let e = errno
                if e != EAGAIN && e != EINTR { early = t < window.measureEnd; break }
            }
            if t >= window.measureEnd { break }
        }
        // Reset rather than drain: the sender sees the end at once instead of after its queue.
        socket.setLingerReset()
        socket.close()
        return (buckets, total, early)
    }

    /// Sends `messageSize` writes on every socket until the receiver resets the connection
    /// (or, if it never does, a little after the window), reading TCP_INFO at the window edges.
    public static func send(_ sockets: [Socket], window: Window, messageSize: Int) throws -> SenderStats {
        let cpu0 = CPUTime.current()
        let threads = try sockets.map { socket in
            try WorkerThread<StreamSend> { sendOne(socket, window: window, messageSize: messageSize) }
        }
        let results = threads.map { $0.join() }
        let rtts = results.compactMap(\.rtt)
        var stats = SenderStats(
            windowBytes: results.reduce(0) { $0 + $1.windowBytes },
            totalBytes: results.reduce(0) { $0 + $1.totalBytes },
            retransmits: results.reduce(0) { $0 + $1.retransmits },
            rttMicroseconds: rtts.isEmpty ? 0 : Double(rtts.reduce(0, +)) / Double(rtts.count),
            mss: results.compactMap(\.mss).max() ?? 0,
            pathMTU: results.compactMap(\.pmtu).max() ?? 0,
            cpu: CPUTime.current() - cpu0, elapsed: Clock.now() - window.start,
            cutShort: results.contains { $0.cutShort })
        stats.retransmitsTotal = results.reduce(0) { $0 + $1.retransmitsTotal }
        return stats
    }

    struct StreamSend: Sendable {
        var cutShort = false
        var windowBytes = 0
        var totalBytes = 0
        var retransmits = 0
        var retransmitsTotal = 0
        var rtt: Int?
        var mss: Int?
        var pmtu: Int?
    }

    private static func sendOne(_ socket: Socket, window: Window, messageSize: Int) -> StreamSend {
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: messageSize, alignment: 64)
        defer { buffer.deallocate() }
        // Bytes that do not compress, in case a path compresses.
        var x: UInt64 = 0x9e37_79b9_7f4a_7c15
        for i in 0..<messageSize {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17
            buffer.storeBytes(of: UInt8(truncatingIfNeeded: x), toByteOffset: i, as: UInt8.self)
        }
        try? socket.setTimeouts(receive: nil, send: 0.2)
        let fd = socket.fd
        var result = StreamSend()
        var retransAtStart: Int?
        var endInfo: TCPInfo?
        let giveUp = window.measureEnd + 10
        var offset = 0
        while true {
            let n = Glibc.send(fd, buffer + offset, messageSize - offset, Int32(MSG_NOSIGNAL))
            let t = Clock.now()
            if n > 0 {
                result.totalBytes += n
                if t >= window.measureStart && t < window.measureEnd { result.windowBytes += n }
                offset = (offset + n) % messageSize
            } else if n < 0 {
                let e = errno
                // The receiver resets at the end of its window, which, when the receiver is the
                // server, ends a one-way delay before ours. A reset well before that means the
                // receiver went away.
                if e != EAGAIN && e != EINTR { result.cutShort = t < window.measureEnd - 1; break }
            }
            if retransAtStart == nil && t >= window.measureStart {
                retransAtStart = socket.tcpInfo().totalRetransmits ?? 0
            }
            if endInfo == nil && t >= window.measureEnd { endInfo = socket.tcpInfo() }
            if t >= giveUp { break }
        }
        let info = endInfo ?? socket.tcpInfo()
        result.retransmits = max(0, (info.totalRetransmits ?? 0) - (retransAtStart ?? 0))
        result.retransmitsTotal = socket.tcpInfo().totalRetransmits ?? 0
        result.rtt = info.rttMicroseconds
        result.mss = info.sendMSS
        result.pmtu = info.pathMTU
        socket.close()
        return result
    }
}
