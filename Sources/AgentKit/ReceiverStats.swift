import AgentLimits

/// What the receiving side of tcp_bw counted.
public struct ReceiverStats: Sendable {
    /// Bytes per interval of the measured window.
    public var intervals: [Int]
    /// Bytes received in the measured window (the sum of `intervals`).
    public var windowBytes: Int { intervals.reduce(0, +) }
    public var totalBytes: Int
    public var cpu: CPUTime
    public var elapsed: Double
    /// A connection ended before the window did: the peer went away.
    public var cutShort = false

    func fields() -> [(String, String)] {
        [("rbytes", String(windowBytes)), ("rtotal", String(totalBytes)),
         ("intervals", intervals.map(String.init).joined(separator: ",")),
         ("rcpu_user", String(cpu.user)), ("rcpu_sys", String(cpu.system)), ("relapsed", String(elapsed))]
    }

    init(intervals: [Int], totalBytes: Int, cpu: CPUTime, elapsed: Double) {
        self.intervals = intervals; self.totalBytes = totalBytes; self.cpu = cpu; self.elapsed = elapsed
    }

    /// Parses the peer's `RESULT` fields; nil when one is missing or out of range (a peer may send
    /// anything: byte counts are bounded so that their sum cannot overflow).
    init?(fields f: [String: String]) {
        guard let total = ControlLine.count(f["rtotal"]), let list = f["intervals"],
              let u = ControlLine.nonNegative(f["rcpu_user"]), let s = ControlLine.nonNegative(f["rcpu_sys"]),
              let e = ControlLine.nonNegative(f["relapsed"]) else { return nil }
        var parsed: [Int] = []
        for item in list.split(separator: ",") {
            guard parsed.count < AgentLimits.intervals, let n = ControlLine.count(String(item)) else { return nil }
            parsed.append(n)
        }
        self.init(intervals: parsed, totalBytes: total, cpu: CPUTime(user: u, system: s), elapsed: e)
    }
}
