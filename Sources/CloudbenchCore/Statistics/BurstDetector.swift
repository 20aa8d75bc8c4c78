/// Tells a burst rate from the sustained rate in a throughput series: a two-level step fit.
///
/// Burstable instances (AWS t2/t3, Azure B-series, shared-CPU droplets) send at a burst rate
/// until their credit is spent, then at a lower baseline that stays for as long as they are
/// busy. In the per-interval throughput of one test that is a step down that holds: two flat
/// levels and at most one interval between them (the credit runs out part-way through it).
///
/// The fit, over `n` intervals of equal length:
/// - every split `k` is tried: the burst segment is intervals `0..<k`, interval `k` is the
///   transition, the sustained segment is `k+1..<n`; the split with the least sum of squared
///   deviations from the two segments' means wins (the earliest on a tie);
/// - the burst segment has at least `minimumSegment` (2) intervals, the sustained segment at
///   least 2 and at least `minimumSustainedShare` (20 %) of the intervals, so a test of fewer
///   than 5 intervals is too short to tell.
///
/// A burst is reported only when all of these hold, so a steady link is never flagged:
/// 1. the sustained mean is below `maximumRatio` (70 %) of the burst mean, and above zero;
/// 2. each level holds: its coefficient of variation (standard deviation / mean) is at most
///    `maximumVariation` (0.25) — a stall (a short run of empty intervals) inside either
///    segment, or a recovery after a dip, breaks this;
/// 3. the two levels explain the series: the step's squared error is at most
///    `maximumResidualShare` (15 %) of the series' squared deviation from its mean, and at most
///    `maximumStepToLine` (50 %) of a least-squares straight line's — a slow, steady decay is
///    a line, not a step, and is not flagged.
public struct BurstDetector: Sendable {
    public var minimumSegment = 2
    public var minimumSustainedShare = 0.2
    public var maximumRatio = 0.7
    public var maximumVariation = 0.25
    public var maximumResidualShare = 0.15
    public var maximumStepToLine = 0.5

    public init() {}

    /// The burst in `rates` (bytes per second of consecutive intervals, each `intervalSeconds`
    /// long), or nil when there is none or the series is too short to tell.
    public func detect(rates: [Double], intervalSeconds: Double) -> Burst? {
        let n = rates.count
        guard intervalSeconds > 0, rates.allSatisfy({ $0.isFinite && $0 >= 0 }) else { return nil }
        let minimumSustained = max(minimumSegment, Int((minimumSustainedShare * Double(n)).rounded(.up)))
        // k: burst is 0..<k, transition k, sustained k+1..<n.
        guard n >= minimumSegment + 1 + minimumSustained else { return nil }
        var prefix = [0.0], prefixSquares = [0.0]
        for r in rates {
            prefix.append(prefix.last! + r)
            prefixSquares.append(prefixSquares.last! + r * r)
        }
        func sse(_ from: Int, _ to: Int) -> Double {
            let count = Double(to - from)
            let sum = prefix[to] - prefix[from]
            return max(0, prefixSquares[to] - prefixSquares[from] - sum * sum / count)
        }
        var best: (k: Int, error: Double)?
        for k in minimumSegment...(n - 1 - minimumSustained) {
            let e = sse(0, k) + sse(k + 1, n)
            if best == nil || e < best!.error { best = (k, e) }
        }
        guard let (k, stepError) = best else { return nil }
        let burst = Array(rates[0..<k]), sustained = Array(rates[(k + 1)...])
        let high = mean(burst), low = mean(sustained)
        guard high > 0, low > 0, low < maximumRatio * high else { return nil }
        guard variation(burst) <= maximumVariation, variation(sustained) <= maximumVariation else { return nil }
        // Compared on the same points (without the transition interval), so the step is not
        // favoured by leaving one out.
        var kept = rates
        kept.remove(at: k)
        let total = squaredDeviation(kept)
        guard total > 0, stepError <= maximumResidualShare * total else { return nil }
        guard stepError <= maximumStepToLine * lineError(rates, skipping: k) else { return nil }
        // Where in the transition interval the credit ran out, from its level between the two.
        let fraction = min(1, max(0, (rates[k] - low) / (high - low)))
        return Burst(burstBytesPerSecond: high, sustainedBytesPerSecond: low,
                     burstSeconds: (Double(k) + fraction) * intervalSeconds)
    }

    private func mean(_ xs: [Double]) -> Double { xs.reduce(0, +) / Double(xs.count) }

    private func squaredDeviation(_ xs: [Double]) -> Double {
        let m = mean(xs)
        return xs.reduce(0) { $0 + ($1 - m) * ($1 - m) }
    }

    private func variation(_ xs: [Double]) -> Double {
        let m = mean(xs)
        guard m > 0, xs.count > 1 else { return m > 0 ? 0 : .infinity }
        return (squaredDeviation(xs) / Double(xs.count - 1)).squareRoot() / m
    }

    /// The squared error of the least-squares line through the series without interval `skip`.
    private func lineError(_ ys: [Double], skipping skip: Int) -> Double {
        let points = ys.indices.filter { $0 != skip }.map { (Double($0), ys[$0]) }
        let count = Double(points.count)
        let mx = points.reduce(0) { $0 + $1.0 } / count, my = points.reduce(0) { $0 + $1.1 } / count
        var sxx = 0.0, sxy = 0.0
        for (x, y) in points { sxx += (x - mx) * (x - mx); sxy += (x - mx) * (y - my) }
        let slope = sxx > 0 ? sxy / sxx : 0
        return points.reduce(0) { acc, p in
            let r = p.1 - (my + slope * (p.0 - mx))
            return acc + r * r
        }
    }
}
