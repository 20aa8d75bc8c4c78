/// The timeline both sides of a bandwidth test follow, on their own monotonic clock:
/// warm-up from `start`, then the measured window of `duration`, cut into intervals.
///
/// tcp_bw's warm-up lasts until the rate has settled (`RateSettling`): at least `warmup`, at
/// most `warmupLimit`. udp_bw's is exactly `warmup` (`measureStart`, `measureEnd`, `bucket`).
public struct Window: Sendable {
    public let start: Double
    public let warmup: Double
    public let duration: Double
    public let interval: Double
    /// tcp_bw: the window opens at `warmup` whether or not the rate has settled (a group step's
    /// receivers on several hosts, `TestRequest.fixedWindow`).
    public var fixedOpening = false

    public init(start: Double, warmup: Double, duration: Double, interval: Double, fixedOpening: Bool = false) {
        self.start = start; self.warmup = warmup; self.duration = duration; self.interval = interval
        self.fixedOpening = fixedOpening
    }

    public var measureStart: Double { start + warmup }
    public var measureEnd: Double { start + warmup + duration }
    public var intervalCount: Int { Int((duration / interval).rounded(.up)) }

    /// The longest a warm-up may last when the rate does not settle: `warmup` and as long
    /// again, at least 3 s and at most 10 s more. (At 12 Mbit/s on tbf, recovering from slow
    /// start's overshoot takes 1.5-2.5 s.) No warm-up asked for means none.
    public var warmupLimit: Double { warmup == 0 ? 0 : warmup + min(max(3, warmup), 10) }

    /// Index of the interval holding time `t`, nil outside the measured window.
    @inline(__always)
    func bucket(_ t: Double) -> Int? {
        guard t >= measureStart, t < measureEnd else { return nil }
        return min(intervalCount - 1, Int((t - measureStart) / interval))
    }

    /// Index of the interval holding time `t` of a window that opened at `opened`.
    @inline(__always)
    func bucket(_ t: Double, openedAt opened: Double) -> Int {
        min(intervalCount - 1, max(0, Int((t - opened) / interval)))
    }
}
