import Foundation

/// One hourly price fetched from a provider's API.
public struct FetchedPrice: Sendable, Hashable {
    /// The catalog's type name, e.g. `D2s_v5`, `t3.micro`, `s-1vcpu-1gb`.
    public var type: String
    public var amount: Decimal
    public var currency: String
    public var region: String
    /// The API address it came from (no secrets).
    public var source: String
    /// ISO 8601 UTC, e.g. `2026-11-27T13:40:00Z`.
    public var fetchedAt: String

    public init(type: String, amount: Decimal, currency: String, region: String, source: String, fetchedAt: String) {
        self.type = type
        self.amount = amount
        self.currency = currency
        self.region = region
        self.source = source
        self.fetchedAt = fetchedAt
    }
}

/// What one provider's fetch produced: the prices found and the types that had none.
public struct FetchResult: Sendable {
    public var prices: [FetchedPrice]
    /// Types asked for that the API did not price, with the reason.
    public var missing: [(type: String, reason: String)]
    /// The API's address for the file header.
    public var source: String

    public init(prices: [FetchedPrice], missing: [(type: String, reason: String)], source: String) {
        self.prices = prices
        self.missing = missing
        self.source = source
    }
}

/// What a fetch needs to know: which types, where, in which currency, and when "now" is.
public struct FetchRequest: Sendable {
    public var types: [String]
    public var region: String
    public var currency: String
    public var fetchedAt: String

    public init(types: [String], region: String, currency: String, fetchedAt: String) {
        self.types = types
        self.region = region
        self.currency = currency
        self.fetchedAt = fetchedAt
    }
}
