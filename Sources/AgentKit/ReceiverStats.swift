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

    init?(fields f: [String: String]) {
        guard let total = f["rtotal"].flatMap({ Int($0) }), let list = f["intervals"],
              let u = f["rcpu_user"].flatMap({ Double($0) }), let s = f["rcpu_sys"].flatMap({ Double($0) }),
              let e = f["relapsed"].flatMap({ Double($0) }) else { return nil }
        let parsed = list.split(separator: ",").compactMap { Int($0) }
        self.init(intervals: parsed, totalBytes: total, cpu: CPUTime(user: u, system: s), elapsed: e)
    }
}
