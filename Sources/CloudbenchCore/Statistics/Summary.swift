/// Descriptive statistics of one cell's repetitions, with a 95 % Student t confidence interval.
///
/// Every figure that needs more than one value (standard deviation, coefficient of variation,
/// interval) is nil when there is one value: a report shows it as n/a, never as 0.
public struct Summary: Hashable, Sendable {
    public var n: Int
    public var mean: Double
    public var median: Double
    public var min: Double
    public var max: Double
    /// Sample standard deviation (divides by n − 1); nil for n = 1.
    public var stddev: Double?
    /// stddev / mean; nil for n = 1 or a zero mean.
    public var coefficientOfVariation: Double?
    /// mean ± t(0.975, n − 1) · s / √n; nil for n = 1. Its low end never goes below the
    /// floor given at creation (0 for a throughput or a time): see `clampedAtFloor`.
    public var confidenceInterval: Interval?
    /// True when the interval's low end was raised to the floor (a wide interval over a few
    /// values would otherwise claim a negative throughput). The interval is then asymmetric.
    public var clampedAtFloor: Bool = false

    /// Summarises `values`; nil when there are none, when one is not finite, or when they are
    /// so large that the mean or the variance is not (`[1e308, -1e308]`): no figure of a
    /// summary is ever NaN or infinite. With a `floor`, an interval reaching below it is cut
    /// there (docs/statistics.md).
    public init?(_ values: [Double], floor: Double? = nil) {
        guard !values.isEmpty, values.allSatisfy(\.isFinite) else { return nil }
        let sorted = values.sorted()
        n = sorted.count
        // Summing in sorted order keeps the result independent of record order.
        let sum = sorted.reduce(0, +) / Double(n)
        guard sum.isFinite else { return nil }
        median = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2
        min = sorted[0]
        max = sorted[n - 1]
        // Within [min, max] as a mean is: rounding can put the sum of equal values an ulp beside
        // them, which would give them a spread (0.4 ± 0.00000000000000017) they do not have.
        mean = Swift.min(Swift.max(sum, min), max)
        if n >= 2 {
            let m = mean
            let variance = sorted.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(n - 1)
            guard variance.isFinite else { return nil }
            let s = variance.squareRoot()
            stddev = s
            coefficientOfVariation = mean != 0 ? s / abs(mean) : nil
            let half = StudentT.critical(df: Double(n - 1)) * s / Double(n).squareRoot()
            guard (mean - half).isFinite, (mean + half).isFinite else { return nil }
            var low = mean - half
            if let floor, low < floor {
                low = floor
                clampedAtFloor = true
            }
            confidenceInterval = Interval(low: low, high: mean + half)
        } else {
            stddev = nil
            coefficientOfVariation = nil
            confidenceInterval = nil
        }
    }

    /// Variance (s²), nil for n = 1.
    public var variance: Double? { stddev.map { $0 * $0 } }
}

/// A closed interval, e.g. a confidence interval.
public struct Interval: Hashable, Sendable {
    public var low: Double
    public var high: Double
    public init(low: Double, high: Double) { self.low = low; self.high = high }
    /// Half the width: the "±" of a symmetric interval.
    public var halfWidth: Double { (high - low) / 2 }
    public func scaled(by f: Double) -> Interval {
        f >= 0 ? Interval(low: low * f, high: high * f) : Interval(low: high * f, high: low * f)
    }
}
