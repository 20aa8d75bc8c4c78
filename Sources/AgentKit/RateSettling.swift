/// Decides when a transfer's rate has settled: slow start, loss recovery and a shaper's
/// initial bucket are over, so what follows is the path's steady rate.
///
/// Fed cumulative byte counts with their times, it keeps one sample per `slice` and calls the
/// rate settled when each of the last `slices` slices is within `tolerance` of their mean.
public struct RateSettling: Sendable {
    public static let slice = 0.25
    public static let slices = 3
    public static let tolerance = 0.03

    private var times: [Double] = []
    private var counts: [Int] = []

    public init() {}

    /// Offers `bytes` counted by time `t`; kept when a slice has passed since the last sample.
    public mutating func offer(bytes: Int, at t: Double) {
        if let last = times.last, t - last < Self.slice { return }
        times.append(t)
        counts.append(bytes)
        if times.count > Self.slices + 1 {
            times.removeFirst()
            counts.removeFirst()
        }
    }

    /// The mean rate of the last slices when each is within tolerance of it; nil while it changes.
    public var settledRate: Double? {
        guard times.count == Self.slices + 1, let mean = recentRate, mean > 0 else { return nil }
        for i in 1..<times.count {
            let rate = Double(counts[i] - counts[i - 1]) / (times[i] - times[i - 1])
            if abs(rate / mean - 1) > Self.tolerance { return nil }
        }
        return mean
    }

    /// The mean rate over the samples kept, settled or not; nil before two samples.
    public var recentRate: Double? {
        guard let t0 = times.first, let t1 = times.last, t1 > t0,
              let b0 = counts.first, let b1 = counts.last else { return nil }
        return Double(b1 - b0) / (t1 - t0)
    }
}
