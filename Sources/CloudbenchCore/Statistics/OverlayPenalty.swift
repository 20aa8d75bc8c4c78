/// How much a path changes a figure relative to `host` on the same instances, in percent of
/// the host mean, with a 95 % interval that says how it was computed.
///
/// Paired (the default when it applies): every value of the path has the host value of the same
/// run, pair and repetition (the same round, measured minutes apart on the same instances) and
/// vice versa. Then dᵢ = pathᵢ − hostᵢ, d̄ ± t(0.975, n−1) · s_d / √n, and the percentage is
/// 100 · d̄ / mean(host). Pairing removes the round-to-round drift both paths share.
///
/// Welch (unpaired data: rounds that do not line up, e.g. results merged from runs that
/// measured only one of the paths): SE = √(s²_path/n_path + s²_host/n_host), Welch–Satterthwaite
/// ν = SE⁴ / ((s²_path/n_path)²/(n_path−1) + (s²_host/n_host)²/(n_host−1)), interval
/// 100 · (d ± t(0.975, ν) · SE) / mean(host).
///
/// Both treat the host mean as exact in the denominator (docs/statistics.md). A throughput or a
/// time cannot fall by more than 100 %, so the interval's low end is cut at −100 %.
public struct OverlayPenalty: Hashable, Sendable {
    public enum Method: String, Hashable, Sendable {
        /// Paired t interval on per-round differences.
        case paired
        /// Welch's unequal-variance t interval.
        case welch
    }

    /// Percent change of the path's mean versus the host mean (negative: the path is lower).
    public var percent: Double
    /// 95 % interval of `percent`; nil when a side has one value (Welch) or one round (paired).
    public var interval: Interval?
    /// Degrees of freedom of the interval; nil without one, or when there is no spread at all
    /// (the interval is then the point itself).
    public var degreesOfFreedom: Double?
    public var method: Method
    /// Rounds (paired) or the smaller side's count (Welch).
    public var n: Int
    /// True when the interval's low end was cut at −100 %.
    public var clamped: Bool = false

    /// Welch's interval from two summaries; nil when the host mean is zero (no percentage exists)
    /// or the figures are so far apart that the percentage is not a finite number.
    public init?(path: Summary, host: Summary) {
        guard host.mean != 0 else { return nil }
        let scale = 100 / host.mean
        let d = path.mean - host.mean
        percent = d * scale
        method = .welch
        n = Swift.min(path.n, host.n)
        guard percent.isFinite else { return nil }
        guard let vp = path.variance, let vh = host.variance else {
            interval = nil
            degreesOfFreedom = nil
            return
        }
        let ap = vp / Double(path.n), ah = vh / Double(host.n)
        let se2 = ap + ah
        if se2 == 0 {
            interval = Interval(low: percent, high: percent)
            degreesOfFreedom = nil
            return
        }
        // ν written with the shares of SE², each in [0, 1]: squaring SE² itself overflows for
        // large values and made ν NaN.
        let sp = ap / se2, sh = ah / se2
        let nu = 1 / (sp * sp / Double(path.n - 1) + sh * sh / Double(host.n - 1))
        guard se2.isFinite, nu.isFinite, nu > 0 else {
            interval = nil
            degreesOfFreedom = nil
            return
        }
        let half = StudentT.critical(df: nu) * se2.squareRoot()
        let low = (d - half) * scale, high = (d + half) * scale
        guard low.isFinite, high.isFinite else {
            interval = nil
            degreesOfFreedom = nil
            return
        }
        interval = Interval(low: low, high: high)
        degreesOfFreedom = nu
        clampLow()
    }

    /// The paired interval from per-round differences path − host; nil when there are none or
    /// the host mean is zero.
    public init?(differences: [Double], hostMean: Double) {
        guard !differences.isEmpty, hostMean != 0, let s = Summary(differences) else { return nil }
        let scale = 100 / hostMean
        percent = s.mean * scale
        method = .paired
        n = s.n
        guard percent.isFinite else { return nil }
        guard let ci = s.confidenceInterval, (ci.low * scale).isFinite, (ci.high * scale).isFinite else {
            interval = nil
            degreesOfFreedom = nil
            return
        }
        interval = Interval(low: ci.low * scale, high: ci.high * scale)
        degreesOfFreedom = s.stddev == 0 ? nil : Double(s.n - 1)
        clampLow()
    }

    /// Paired when the two cells' rounds match one to one, Welch otherwise.
    public static func compare(path: CellStatistics, host: CellStatistics) -> OverlayPenalty? {
        guard let p = path.summary, let h = host.summary else { return nil }
        if let differences = pairedDifferences(path.observations, host.observations) {
            return OverlayPenalty(differences: differences, hostMean: h.mean)
        }
        return OverlayPenalty(path: p, host: h)
    }

    /// pathᵢ − hostᵢ per round, in the path's order; nil unless every round appears exactly
    /// once on each side.
    public static func pairedDifferences(_ path: [CellStatistics.Observation],
                                         _ host: [CellStatistics.Observation]) -> [Double]? {
        guard !path.isEmpty, path.count == host.count else { return nil }
        var hostByRound: [String: Double] = [:]
        for o in host where hostByRound.updateValue(o.value, forKey: o.round) != nil { return nil }
        var seen: Set<String> = []
        var out: [Double] = []
        out.reserveCapacity(path.count)
        for o in path {
            guard seen.insert(o.round).inserted, let h = hostByRound[o.round] else { return nil }
            out.append(o.value - h)
        }
        return out
    }

    private mutating func clampLow() {
        if let i = interval, i.low < -100 {
            interval = Interval(low: -100, high: i.high)
            clamped = true
        }
    }
}
