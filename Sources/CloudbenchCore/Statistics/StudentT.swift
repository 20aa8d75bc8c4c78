import Foundation

/// Quantiles of Student's t distribution, for confidence intervals of small samples.
///
/// Computed from the regularized incomplete beta function (continued fraction, as in
/// Numerical Recipes `betai`) and inverted by Newton's method from a normal-based first guess
/// (bisection if Newton strays), so it also serves the fractional degrees of freedom of
/// Welch's interval. About five CDF evaluations per quantile: no table needed.
public enum StudentT {
    /// The two-sided critical value t such that P(|T| ≤ t) = `confidence` with `df` degrees of freedom.
    public static func critical(confidence: Double = 0.95, df: Double) -> Double {
        // Callers pass finite figures (Summary and OverlayPenalty refuse the rest); this guards
        // the contract, it is not an input check.
        precondition(df > 0 && df.isFinite && confidence > 0 && confidence < 1)
        if confidence == 0.95, let i = Int(exactly: df), i <= tableDegrees { return table95[i - 1] }
        return quantile(1 - (1 - confidence) / 2, df: df)
    }

    /// Whole degrees of freedom up to this have their 95 % critical value worked out once (a
    /// report summarises thousands of cells and figures, nearly all with the same few counts).
    static let tableDegrees = 256

    /// `critical(0.95, df)` for df = 1…`tableDegrees`: the same function's values, computed on first use.
    static let table95: [Double] = (1...tableDegrees).map { quantile(1 - (1 - 0.95) / 2, df: Double($0)) }

    /// P(T ≤ t) with `df` degrees of freedom.
    public static func cdf(_ t: Double, df: Double) -> Double {
        let x = df / (df + t * t)
        let tail = 0.5 * regularizedBeta(x, a: df / 2, b: 0.5)
        return t >= 0 ? 1 - tail : tail
    }

    /// The t with P(T ≤ t) = p, for p in (0.5, 1).
    static func quantile(_ p: Double, df: Double) -> Double {
        // First guess: the normal quantile with the first Cornish–Fisher correction.
        let z = normalQuantile(p)
        var t = z + (z * z * z + z) / (4 * df)
        for _ in 0..<30 {
            let f = cdf(t, df: df) - p
            let step = f / pdf(t, df: df)
            let next = t - step
            if !next.isFinite || next <= 0 { return bisect(p, df: df) }
            t = next
            if abs(step) <= 1e-13 * t { return t }
        }
        return bisect(p, df: df)
    }

    static func pdf(_ t: Double, df: Double) -> Double {
        let lnNorm: Double = lgamma((df + 1) / 2) - lgamma(df / 2) - 0.5 * log(df * Double.pi)
        return exp(lnNorm - (df + 1) / 2 * log1p(t * t / df))
    }

    static func bisect(_ p: Double, df: Double) -> Double {
        var lo = 0.0, hi = 1.0
        while cdf(hi, df: df) < p { lo = hi; hi *= 2 }
        for _ in 0..<200 {
            let mid = (lo + hi) / 2
            if cdf(mid, df: df) < p { lo = mid } else { hi = mid }
            if hi - lo < 1e-13 * hi { break }
        }
        return (lo + hi) / 2
    }

    /// Acklam's rational approximation of the standard normal quantile (relative error < 1.2e-9),
    /// only used as Newton's starting point.
    static func normalQuantile(_ p: Double) -> Double {
        let a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02,
                 -3.066479806614716e+01, 2.506628277459239e+00]
        let b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01,
                 -1.328068155288572e+01]
        let c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00,
                 4.374664141464968e+00, 2.938163982698783e+00]
        let d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00]
        if p > 0.97575 {
            let q = (-2 * log(1 - p)).squareRoot()
            let num: Double = ((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]
            let den: Double = (((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1
            return -num / den
        }
        let q = p - 0.5, r = q * q
        let num: Double = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q
        let den: Double = ((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1
        return num / den
    }

    /// I_x(a, b), the regularized incomplete beta function.
    static func regularizedBeta(_ x: Double, a: Double, b: Double) -> Double {
        if x <= 0 { return 0 }
        if x >= 1 { return 1 }
        let lnGammas: Double = lgamma(a + b) - lgamma(a) - lgamma(b)
        let lnPowers: Double = a * log(x) + b * log(1 - x)
        let lnFront = lnGammas + lnPowers
        let front = exp(lnFront)
        // The continued fraction converges fast for x < (a+1)/(a+b+2); use the symmetry otherwise.
        if x < (a + 1) / (a + b + 2) {
            return front * betaContinuedFraction(x, a: a, b: b) / a
        }
        return 1 - front * betaContinuedFraction(1 - x, a: b, b: a) / b
    }

    /// Lentz's method for the continued fraction of the incomplete beta function.
    static func betaContinuedFraction(_ x: Double, a: Double, b: Double) -> Double {
        let tiny = 1e-300, eps = 1e-15
        let qab = a + b, qap = a + 1, qam = a - 1
        var c = 1.0
        var d = 1 - qab * x / qap
        if abs(d) < tiny { d = tiny }
        d = 1 / d
        var h = d
        for m in 1...300 {
            let m = Double(m), m2 = 2 * m
            var aa = m * (b - m) * x / ((qam + m2) * (a + m2))
            d = 1 + aa * d; if abs(d) < tiny { d = tiny }
            c = 1 + aa / c; if abs(c) < tiny { c = tiny }
            d = 1 / d
            h *= d * c
            aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
            d = 1 + aa * d; if abs(d) < tiny { d = tiny }
            c = 1 + aa / c; if abs(c) < tiny { c = tiny }
            d = 1 / d
            let del = d * c
            h *= del
            if abs(del - 1) < eps { break }
        }
        return h
    }
}
