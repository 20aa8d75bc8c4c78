import Foundation

/// An amount of a currency. Always `Decimal`: prices are never rounded through `Double`.
public struct Money: Hashable, Sendable, Codable, CustomStringConvertible {
    public var amount: Decimal
    /// ISO 4217 code, e.g. `USD`.
    public var currency: String

    public init(_ amount: Decimal, _ currency: String) {
        self.amount = amount
        self.currency = currency
    }

    /// Parses `"0.1207"` exactly; nil for anything that is not a plain decimal number.
    public static func decimal(_ text: String) -> Decimal? {
        let t = text.trimmingCharacters(in: .whitespaces)
        guard !t.isEmpty, t.allSatisfy({ $0.isNumber || $0 == "." || $0 == "-" || $0 == "+" }),
              t.filter({ $0 == "." }).count <= 1 else { return nil }
        return Decimal(string: t, locale: Locale(identifier: "en_US_POSIX"))
    }

    /// The amount as plain text, e.g. `0.1207` (no exponent, no grouping).
    public var amountText: String { Money.plain(amount) }

    public var description: String { "\(amountText) \(currency)" }

    public static func plain(_ d: Decimal) -> String {
        var v = d
        return NSDecimalString(&v, Locale(identifier: "en_US_POSIX"))
    }

    /// Rounds to `places` decimals (banker's rounding off: plain half-up), for display only.
    public static func rounded(_ d: Decimal, places: Int) -> Decimal {
        var v = d, r = Decimal()
        NSDecimalRound(&r, &v, places, .plain)
        return r
    }
}

/// A price per hour of one instance, with where it came from.
public struct HourlyPrice: Hashable, Sendable {
    public enum Status: String, Sendable, Codable, CaseIterable {
        /// Copied from a published price list.
        case quoted
        /// Worked out from indirect evidence (e.g. a 2015 Azure price from a later list).
        case reconstructed
        /// Fetched from the provider's pricing API by `cloudbench prices refresh`.
        case fetched
        /// Given by the user in the inventory.
        case inventory
    }

    public var money: Money
    public var region: String?
    public var status: Status
    public var source: String
    /// `YYYY-MM-DD` (or a full ISO 8601 time for fetched prices).
    public var asOf: String
    public var note: String?

    public init(money: Money, region: String?, status: Status, source: String, asOf: String, note: String? = nil) {
        self.money = money
        self.region = region
        self.status = status
        self.source = source
        self.asOf = asOf
        self.note = note
    }
}
