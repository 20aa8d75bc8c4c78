/// How much a path changes a figure relative to `host` on the same instances, in percent of
/// the host mean, with a Welch t interval.
///
/// difference d = mean(path) − mean(host); penalty = 100 · d / mean(host).
/// SE = √(s²_path/n_path + s²_host/n_host); Welch–Satterthwaite degrees of freedom
/// ν = SE⁴ / ((s²_path/n_path)²/(n_path−1) + (s²_host/n_host)²/(n_host−1));
/// interval = 100 · (d ± t(0.975, ν) · SE) / mean(host). The host mean is treated as exact
/// in the denominator (see docs/statistics.md). Needs n ≥ 2 on both sides for an interval.
public struct OverlayPenalty: Hashable, Sendable {
    /// Percent change of the path's mean versus the host mean (negative: the path is lower).
    public var percent: Double
    /// 95 % interval of `percent`; nil when either side has one value.
    public var interval: Interval?
    /// Welch–Satterthwaite degrees of freedom; nil without an interval or when both sides
    /// have zero spread (the interval is then the point itself).
    public var degreesOfFreedom: Double?

    /// nil when the host mean is zero (no percentage exists) or the figures are so far apart
    /// that the percentage is not a finite number.
    public init?(path: Summary, host: Summary) {
        guard host.mean != 0 else { return nil }
        let scale = 100 / host.mean
        let d = path.mean - host.mean
        percent = d * scale
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
    }
}
