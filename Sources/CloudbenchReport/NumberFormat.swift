import Foundation
import CloudbenchCore

/// Number and money formatting shared by the renderers: fixed rules, no locale, so the same
/// input always gives the same bytes.
enum NumberFormat {
    /// Three significant digits; whole numbers with thousands separators from 100 up.
    static func sig3(_ x: Double) -> String {
        guard x.isFinite else { return "n/a" }
        if abs(x) >= 1e15 { return String(format: "%.2e", x) }  // beyond what grouped digits can say (and Int holds)
        if abs(x) >= 99.95 { return grouped(Int(x.rounded())) }
        if x == 0 { return "0" }
        let decimals = max(0, 2 - Int(floor(log10(abs(x)))))
        return String(format: "%.\(decimals)f", x)
    }

    /// Two significant digits (for the ± of an interval).
    static func sig2(_ x: Double) -> String {
        guard x.isFinite else { return "n/a" }
        if x == 0 { return "0" }
        if abs(x) >= 1e15 { return String(format: "%.1e", x) }
        if abs(x) >= 99.5 { return grouped(Int(x.rounded())) }
        let decimals = max(0, 1 - Int(floor(log10(abs(x)))))
        return String(format: "%.\(decimals)f", x)
    }

    static func grouped(_ n: Int) -> String {
        let digits = String(abs(n))
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0, (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return (n < 0 ? "-" : "") + out
    }

    /// `-18.7 %`, `+3.0 %`.
    static func percent(_ x: Double) -> String { String(format: "%+.1f %%", x) }

    static func symbol(_ currency: String) -> String? {
        switch currency {
        case "USD": return "$"
        case "EUR": return "€"
        case "GBP": return "£"
        default: return nil
        }
    }

    /// `$0.007`, `€0.1207`, `0.5 CHF` — the amount exactly as given.
    static func money(_ m: Money) -> String { money(amount: m.amountText, m.currency) }

    static func money(amount: String, _ currency: String) -> String {
        symbol(currency).map { "\($0)\(amount)" } ?? "\(amount) \(currency)"
    }

    /// A converted amount to four significant digits, e.g. `$0.1353`.
    static func convertedMoney(_ m: Money) -> String {
        money(amount: Money.plain(rounded(m.amount, significant: 4)), m.currency)
    }

    static func rounded(_ d: Decimal, significant: Int) -> Decimal {
        guard d != 0 else { return 0 }
        let x = abs(NSDecimalNumber(decimal: d).doubleValue)
        guard x.isFinite, x > 0 else { return d }
        let places = significant - 1 - Int(floor(log10(x)))
        return Money.rounded(d, places: max(0, places))
    }

    /// `$/h`, `€/h`, `CHF/h`.
    static func perHour(_ currency: String) -> String { "\(symbol(currency) ?? currency)/h" }
}
