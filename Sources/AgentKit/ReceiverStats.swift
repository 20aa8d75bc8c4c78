import AgentContract

/// What the receiving side of tcp_bw counted.
public struct ReceiverStats: Sendable {
    /// Bytes per interval of the measured window.
    public var intervals: [Int]
    /// Bytes received in the measured window (the sum of `intervals`).
    public var windowBytes: Int { intervals.reduce(0, +) }
    public var totalBytes: Int
    /// The figure: each stream's bytes over the exact span of its reads, summed over streams;
    /// nil when no stream counted any.
    public var bytesPerSecond: Double?
    /// Seconds from the earliest first mark of a stream to the latest last one.
    public var measuredSeconds: Double
    /// Seconds from GO until the rate settled and the window opened.
    public var warmupTaken: Double
    /// The read size in the window.
    public var readSize: Int
    public var cpu: CPUTime
    public var elapsed: Double
    /// A connection ended before the window did: the peer went away.
    public var cutShort = false
    /// Each stream's own rate over its span, in the order of the sockets (on this side only; not
    /// sent to the peer): the flows of a group step.
    public var streamRates: [Double?] = []
    /// A pooled test (`TestRequest.pool`): the group step's flow each stream is, in the order of
    /// `streamRates`. Sent with them as `rflows=FLOW:RATE,…` (`-` for a stream that counted nothing).
    public var flows: [Int] = []
    /// What a peer's `rflows` said: each flow that landed on it and its rate.
    public var flowRates: [(flow: Int, rate: Double?)] = []

    func fields() -> [(String, String)] {
        var out = [("rbytes", String(windowBytes)), ("rtotal", String(totalBytes)),
                   ("intervals", intervals.map(String.init).joined(separator: ",")),
                   ("rrate", bytesPerSecond.map { String($0) } ?? "-"), ("rspan", String(measuredSeconds)),
                   ("rwarm", String(warmupTaken)), ("rread", String(readSize)),
                   ("rcpu_user", String(cpu.user)), ("rcpu_sys", String(cpu.system)), ("relapsed", String(elapsed))]
        if !flows.isEmpty, flows.count == streamRates.count {
            out.append(("rflows", zip(flows, streamRates).map { "\($0):\($1.map { String($0) } ?? "-")" }.joined(separator: ",")))
        }
        return out
    }

    init(intervals: [Int], totalBytes: Int, bytesPerSecond: Double?, measuredSeconds: Double,
         warmupTaken: Double, readSize: Int, cpu: CPUTime, elapsed: Double) {
        self.intervals = intervals; self.totalBytes = totalBytes
        self.bytesPerSecond = bytesPerSecond; self.measuredSeconds = measuredSeconds
        self.warmupTaken = warmupTaken; self.readSize = readSize; self.cpu = cpu; self.elapsed = elapsed
    }

    /// Parses the peer's `RESULT` fields; nil when one is missing or out of range (a peer may send
    /// anything: byte counts are bounded so that their sum cannot overflow).
    init?(fields f: [String: String]) {
        guard let total = ControlLine.count(f["rtotal"]), let list = f["intervals"],
              let rate = f["rrate"], let span = ControlLine.nonNegative(f["rspan"]), span < 1e6,
              let warm = ControlLine.nonNegative(f["rwarm"]), let read = ControlLine.count(f["rread"]),
              let u = ControlLine.nonNegative(f["rcpu_user"]), let s = ControlLine.nonNegative(f["rcpu_sys"]),
              let e = ControlLine.nonNegative(f["relapsed"]) else { return nil }
        var parsed: [Int] = []
        for item in list.split(separator: ",") {
            guard parsed.count < AgentLimits.intervals, let n = ControlLine.count(String(item)) else { return nil }
            parsed.append(n)
        }
        let bps = Double(rate).flatMap { $0.isFinite && $0 > 0 ? $0 : nil }
        self.init(intervals: parsed, totalBytes: total, bytesPerSecond: bps, measuredSeconds: span,
                  warmupTaken: warm, readSize: read,
                  cpu: CPUTime(user: u, system: s), elapsed: e)
        if let list = f["rflows"] {
            for item in list.split(separator: ",") {
                let parts = item.split(separator: ":")
                guard flowRates.count < AgentLimits.groupFlows.upperBound, parts.count == 2, let flow = Int(parts[0]),
                      (0..<AgentLimits.groupFlows.upperBound).contains(flow) else { return nil }
                // A starved flow's rate may be exactly 0: it counts as 0, not as a malformed line.
                let r = Double(parts[1]).flatMap { $0.isFinite && $0 >= 0 && $0 < 1e13 ? $0 : nil }
                guard r != nil || parts[1] == "-" else { return nil }
                flowRates.append((flow, r))
            }
        }
    }
}
