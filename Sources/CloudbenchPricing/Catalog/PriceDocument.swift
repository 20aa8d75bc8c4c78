import CloudbenchCore

/// `cloudbench prices show --json`: every catalog price with its status, date and age
/// (docs/json.md). The amount is a string, exactly as the catalog gives it.
public struct PriceDocument: Encodable, Sendable {
    public struct Price: Encodable, Sendable {
        public var provider, type: String
        public var region: String?
        public var amount: String?
        public var currency: String?
        public var status: String
        public var asOf: String?
        public var ageDays: Int?
        public var stale: Bool
        public var source: String?

        enum CodingKeys: String, CodingKey {
            case provider, type, region, amount, currency, status, stale, source
            case asOf = "as_of", ageDays = "age_days"
        }
    }

    public var schema = "cloudbench-prices/1"
    public var staleAfterDays = PriceTable.staleDays
    public var prices: [Price]

    enum CodingKeys: String, CodingKey {
        case schema, prices
        case staleAfterDays = "stale_after_days"
    }

    public init(_ rows: [PriceTable.Row]) {
        func given(_ s: String) -> String? { s == "-" ? nil : s }
        prices = rows.map { r in
            Price(provider: r.provider, type: r.type, region: given(r.region), amount: given(r.price), currency: given(r.currency),
                  status: r.status, asOf: given(r.asOf), ageDays: r.ageDays, stale: r.isStale, source: given(r.source))
        }
    }
}
