#if canImport(Glibc)
import Glibc
#endif
import Syscall

/// The tcp_bw data path: one pthread per stream on each side.
///
/// The receiver decides when the measured window opens (the aggregate rate has settled,
/// `RateSettling`), counts bytes over the exact span of its reads (`ByteSpan`) and announces
/// the opening and the rate on the control connection (`OPEN rate=R`); the sender opens its
/// own window when that line arrives and sizes its writes to the rate (`IOSize`).
public enum TCPStreams {
    /// Receives on every socket until the window ends, then resets the connections so the
    /// sender stops. `announce` is called with the settled rate when the window opens.
    public static func receive(_ sockets: [Socket], window: Window,
                               announce: (Double?) -> Void) throws -> ReceiverStats {
        let cpu0 = CPUTime.current()
        let opening = WindowOpening()
        let progress = sockets.map { _ in StreamProgress() }
        let threads = try zip(sockets, progress).map { socket, p in
            try WorkerThread<StreamReceive> { receiveOne(socket, window: window, opening: opening, progress: p) }
        }
        announce(watchWarmup(window: window, opening: opening, progress: progress))
        let results = threads.map { $0.join() }
        var intervals = [Int](repeating: 0, count: window.intervalCount)
        for r in results { for i in r.buckets.indices { intervals[i] += r.buckets[i] } }
        let opened = opening.opened
        var stats = ReceiverStats(intervals: intervals, totalBytes: results.reduce(0) { $0 + $1.total },
                                  bytesPerSecond: ByteSpan.aggregateRate(results.map(\.span)),
                                  measuredSeconds: measured(results.map(\.span)),
                                  warmupTaken: (opened?.at ?? window.start) - window.start,
                                  readSize: opened?.size ?? IOSize.largestRead,
                                  cpu: CPUTime.current() - cpu0, elapsed: Clock.now() - window.start)
        stats.cutShort = results.contains { $0.cutShort }
        stats.streamRates = results.map(\.span.bytesPerSecond)
        return stats
    }

    /// From the earliest first mark of a stream to the latest last one.
    static func measured(_ spans: [ByteSpan]) -> Double {
        guard let first = spans.compactMap(\.first).min(), let last = spans.compactMap(\.last).max() else { return 0 }
        return last - first
    }

    /// Opens the window once the aggregate rate has settled and `warmup` has passed, or at
    /// `warmupLimit`, sizing reads to the rate found; returns that rate (nil: none yet).
    private static func watchWarmup(window: Window, opening: WindowOpening, progress: [StreamProgress]) -> Double? {
        var settling = RateSettling()
        let earliest = window.start + window.warmup, latest = window.start + window.warmupLimit
        while true {
            let now = Clock.now()
            var bytes = 0, newest = 0.0, running = false
            for p in progress {
                bytes += p.bytes.load(ordering: .relaxed)
                newest = max(newest, Double(bitPattern: p.lastRead.load(ordering: .relaxed)))
                running = running || !p.finished.load(ordering: .relaxed)
            }
            // Sampled at the time of the newest read, so a late wake-up does not skew a slice.
            if newest > 0 { settling.offer(bytes: bytes, at: newest) }
            let settled = now >= earliest ? settling.settledRate : nil
            if settled != nil || now >= latest || !running || (window.fixedOpening && now >= earliest) {
                let rate = settled ?? settling.recentRate
                let perStream = rate.map { $0 / Double(progress.count) }
                opening.open(at: now, size: IOSize.read(forRate: perStream), rate: perStream ?? 0)
                return rate
            }
            Clock.sleep(0.005)
        }
    }

    struct StreamReceive: Sendable {
        var span = ByteSpan()
        var buckets: [Int]
        var total = 0
        var cutShort = false
    }

    /// `FIONREAD`: bytes queued on the socket, not yet read.
    private static let bytesQueued: UInt = 0x541B

    private static func receiveOne(_ socket: Socket, window: Window, opening: WindowOpening,
                                   progress: StreamProgress) -> StreamReceive {
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: IOSize.largestRead, alignment: 64)
        defer { buffer.deallocate() }
        var result = StreamReceive(buckets: [Int](repeating: 0, count: window.intervalCount))
        try? socket.setTimeouts(receive: 0.2, send: nil)
        // The hot loops call recv/send directly rather than through `Posix`: EAGAIN (the
        // timeout that lets a thread look at the clock), EOF and a peer's reset are how a
        // test ends, not errors, and the loop must cost nothing beyond the syscall.
        let fd = socket.fd
        var readSize = IOSize.largestRead
        var opened = 0.0, end = Double.infinity, isOpen = false
        var queued: Int32 = 0
        while true {
            let n = recv(fd, buffer, readSize, 0)
            var arrived = result.total + max(0, n)
            // A full read may have left bytes that had arrived already: ask how many.
            if isOpen && n == readSize && ioctl(fd, bytesQueued, &queued) == 0 { arrived += Int(queued) }
            let t = Clock.now()
            if !isOpen, let o = opening.opened {
                isOpen = true
                opened = o.at
                end = o.at + window.duration
                readSize = o.size
                result.span = ByteSpan(opened: o.at, end: end, rate: o.rate)
            }
            if n > 0 {
                result.total += n
                progress.record(total: result.total, at: t)
                if isOpen && t >= opened && t < end {
                    result.span.mark(arrived: arrived, at: t)
                    result.buckets[window.bucket(t, openedAt: opened)] += n
                }
            } else if n == 0 {
                result.cutShort = t < end
                break
            } else {
                let e = errno
                if e != EAGAIN && e != EINTR { result.cutShort = t < end; break }
            }
            if t >= end { break }
        }
        progress.finished.store(true, ordering: .relaxed)
        // Reset rather than drain: the sender sees the end at once instead of after its queue.
        socket.setLingerReset()
        socket.close()
        return result
    }

    /// Writes on every socket until the receiver resets the connection (or, if it never does,
    /// well after the latest its window could end), reading TCP_INFO at the window's edges.
    /// `awaitOpening` blocks until the receiver announces its window (its rate, when known) or
    /// gives up; `messageSize` 0 sizes writes to that rate.
    public static func send(_ sockets: [Socket], window: Window, messageSize: Int,
                            awaitOpening: () -> Double?) throws -> SenderStats {
        let cpu0 = CPUTime.current()
        let opening = WindowOpening()
        let largest = messageSize > 0 ? messageSize : largestWrite
        let threads = try sockets.map { socket in
            try WorkerThread<StreamSend> { sendOne(socket, window: window, largest: largest, opening: opening) }
        }
        let rate = awaitOpening()
        let size = messageSize > 0 ? messageSize : IOSize.write(forRate: rate.map { $0 / Double(sockets.count) }, largest: largest)
        opening.open(at: Clock.now(), size: size, rate: 0)
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
        stats.messageSize = size
        stats.adaptive = messageSize == 0
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

    /// Fills `count` bytes with bytes that do not compress, in case a path compresses.
    static func fillIncompressible(_ buffer: UnsafeMutableRawPointer, count: Int) {
        var x: UInt64 = 0x9e37_79b9_7f4a_7c15
        for i in 0..<count {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17
            buffer.storeBytes(of: UInt8(truncatingIfNeeded: x), toByteOffset: i, as: UInt8.self)
        }
    }

    /// Bytes per write before the rate is known, and at high rates.
    static let largestWrite = 128 * 1024

    private static func sendOne(_ socket: Socket, window: Window, largest: Int, opening: WindowOpening) -> StreamSend {
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: largest, alignment: 64)
        defer { buffer.deallocate() }
        fillIncompressible(buffer, count: largest)
        try? socket.setTimeouts(receive: nil, send: 0.2)
        let fd = socket.fd
        var result = StreamSend()
        var size = largest, nextSize = largest
        var opened = 0.0, end = Double.infinity, isOpen = false
        var retransAtStart = 0
        var endInfo: TCPInfo?
        // The receiver ends its window, and resets, at the latest this long after GO.
        let giveUp = window.start + window.warmupLimit + window.duration + 10
        var offset = 0
        while true {
            let n = Glibc.send(fd, buffer + offset, size - offset, Int32(MSG_NOSIGNAL))
            let t = Clock.now()
            if !isOpen, let o = opening.opened {
                isOpen = true
                opened = o.at
                end = o.at + window.duration
                nextSize = o.size
                retransAtStart = socket.tcpInfo().totalRetransmits ?? 0
            }
            if n > 0 {
                result.totalBytes += n
                if isOpen && t >= opened && t < end { result.windowBytes += n }
                offset += n
                // A new size takes effect at the end of the current write.
                if offset >= size { offset = 0; size = nextSize }
            } else if n < 0 {
                let e = errno
                // The receiver resets at the end of its window, which opens no earlier than
                // `warmup` after GO. A reset well before that window could end means the
                // receiver went away.
                if e != EAGAIN && e != EINTR { result.cutShort = t < window.measureEnd - 1; break }
            }
            if endInfo == nil && t >= end { endInfo = socket.tcpInfo() }
            if t >= giveUp { break }
        }
        let info = endInfo ?? socket.tcpInfo()
        result.retransmits = max(0, (info.totalRetransmits ?? 0) - retransAtStart)
        result.retransmitsTotal = socket.tcpInfo().totalRetransmits ?? 0
        result.rtt = info.rttMicroseconds
        result.mss = info.sendMSS
        result.pmtu = info.pathMTU
        socket.close()
        return result
    }
}
