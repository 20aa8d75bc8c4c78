/// The timeline both sides of a bandwidth test follow, on their own monotonic clock:
/// warm-up from `start`, then the measured window of `duration`, cut into intervals.
public struct Window: Sendable {
    public let start: Double
    public let warmup: Double
    public let duration: Double
    public let interval: Double

    public var measureStart: Double { start + warmup }
    public var measureEnd: Double { start + warmup + duration }
    public var intervalCount: Int { Int((duration / interval).rounded(.up)) }

    /// Index of the interval holding time `t`, nil outside the measured window.
    @inline(__always)
    func bucket(_ t: Double) -> Int? {
        guard t >= measureStart, t < measureEnd else { return nil }
        return min(intervalCount - 1, Int((t - measureStart) / interval))
    }
}
