import Foundation

/// Quantiles of Student's t distribution, for confidence intervals of small samples.
///
/// Computed from the regularized incomplete beta function (continued fraction, as in
/// Numerical Recipes `betai`) and inverted by bisection, so it also serves the fractional
/// degrees of freedom of Welch's interval. Whole degrees of freedom up to 1000 come from a
/// table computed once.
public enum StudentT {
    /// The two-sided critical value t such that P(|T| ≤ t) = `confidence` with `df` degrees of freedom.
    public static func critical(confidence: Double = 0.95, df: Double) -> Double {
        precondition(df > 0 && confidence > 0 && confidence < 1)
        if confidence == 0.95, df == df.rounded(), df <= Double(table95.count) {
            return table95[Int(df) - 1]
        }
        return quantile(1 - (1 - confidence) / 2, df: df)
    }

    /// P(T ≤ t) with `df` degrees of freedom.
    public static func cdf(_ t: Double, df: Double) -> Double {
        let x = df / (df + t * t)
        let tail = 0.5 * regularizedBeta(x, a: df / 2, b: 0.5)
        return t >= 0 ? 1 - tail : tail
    }

    /// The t with P(T ≤ t) = p, for p in (0.5, 1).
    static func quantile(_ p: Double, df: Double) -> Double {
        var lo = 0.0, hi = 1.0
        while cdf(hi, df: df) < p { lo = hi; hi *= 2 }
        for _ in 0..<80 {
            let mid = (lo + hi) / 2
            if cdf(mid, df: df) < p { lo = mid } else { hi = mid }
            if hi - lo < 1e-12 * hi { break }
        }
        return (lo + hi) / 2
    }

    static let table95: [Double] = (1...1000).map { quantile(0.975, df: Double($0)) }

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
