/// Exact percentiles of a sample, by the nearest-rank method: every reported figure is a
/// value that was actually measured, never an interpolation.
public struct Percentiles: Sendable, Equatable {
    public let count: Int
    public let min: Double
    public let max: Double
    public let mean: Double
    private let sorted: [Double]

    public init?(_ values: [Double]) {
        guard !values.isEmpty else { return nil }
        sorted = values.sorted()
        count = sorted.count
        min = sorted.first!
        max = sorted.last!
        mean = sorted.reduce(0, +) / Double(sorted.count)
    }

    /// The smallest value with at least `p` percent of the sample at or below it.
    public func value(at p: Double) -> Double {
        let rank = Int((p / 100 * Double(count)).rounded(.up))
        return sorted[Swift.max(0, Swift.min(count - 1, rank - 1))]
    }

    /// `{p50, p90, p95, p99, p999, max, mean, min}` scaled by `factor` (e.g. seconds to µs).
    public func json(scale factor: Double = 1) -> JSON {
        // Three decimals: nanoseconds when the unit is microseconds; more would be noise.
        func r(_ v: Double) -> JSON { .double((v * factor * 1000).rounded() / 1000) }
        return .object([
            ("p50", r(value(at: 50))), ("p90", r(value(at: 90))), ("p95", r(value(at: 95))), ("p99", r(value(at: 99))),
            ("p999", r(value(at: 99.9))), ("max", r(max)), ("mean", r(mean)), ("min", r(min)),
        ])
    }
}
