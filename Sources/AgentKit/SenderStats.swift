/// What the sending side of tcp_bw counted, with the kernel's view of its connections.
public struct SenderStats: Sendable {
    public var windowBytes: Int
    public var totalBytes: Int
    /// Segments retransmitted during the measured window, all streams.
    public var retransmits: Int
    /// Segments retransmitted over the whole run, warm-up (slow start) included.
    public var retransmitsTotal = 0
    /// Smoothed RTT at the end of the window, mean over streams, microseconds.
    public var rttMicroseconds: Double
    public var mss: Int
    public var pathMTU: Int
    public var cpu: CPUTime
    public var elapsed: Double
    /// A connection failed before the window ended: the peer went away.
    public var cutShort = false
    /// Bytes per write in the window (the largest over streams).
    public var messageSize = 0
    /// Whether the write size came from the rate found in the warm-up (no `--message-size`).
    public var adaptive = false

    func fields() -> [(String, String)] {
        [("sbytes", String(windowBytes)), ("stotal", String(totalBytes)), ("retrans", String(retransmits)), ("retrans_total", String(retransmitsTotal)),
         ("rtt_us", String(rttMicroseconds)), ("mss", String(mss)), ("pmtu", String(pathMTU)),
         ("scpu_user", String(cpu.user)), ("scpu_sys", String(cpu.system)), ("selapsed", String(elapsed)),
         ("msize", String(messageSize)), ("adaptive", adaptive ? "1" : "0")]
    }

    init(windowBytes: Int, totalBytes: Int, retransmits: Int, rttMicroseconds: Double, mss: Int, pathMTU: Int,
         cpu: CPUTime, elapsed: Double, cutShort: Bool = false) {
        self.windowBytes = windowBytes; self.totalBytes = totalBytes; self.retransmits = retransmits
        self.rttMicroseconds = rttMicroseconds; self.mss = mss; self.pathMTU = pathMTU; self.cpu = cpu; self.elapsed = elapsed
        self.cutShort = cutShort
    }

    /// Parses the peer's `RESULT` fields; nil when one is missing, negative or not finite.
    init?(fields f: [String: String]) {
        guard let w = ControlLine.count(f["sbytes"]), let t = ControlLine.count(f["stotal"]),
              let r = ControlLine.count(f["retrans"]), let rtt = ControlLine.nonNegative(f["rtt_us"]),
              let mss = ControlLine.count(f["mss"]), let pmtu = ControlLine.count(f["pmtu"]),
              let u = ControlLine.nonNegative(f["scpu_user"]), let s = ControlLine.nonNegative(f["scpu_sys"]),
              let e = ControlLine.nonNegative(f["selapsed"]),
              let size = ControlLine.count(f["msize"]), let adaptive = f["adaptive"] else { return nil }
        self.init(windowBytes: w, totalBytes: t, retransmits: r, rttMicroseconds: rtt, mss: mss, pathMTU: pmtu,
                  cpu: CPUTime(user: u, system: s), elapsed: e)
        retransmitsTotal = ControlLine.count(f["retrans_total"]) ?? 0
        messageSize = size
        self.adaptive = adaptive == "1"
    }
}
