import CloudbenchCore
import Foundation

/// `cloudbench prices show`: every known price with its status, date, age and source.
public enum PriceTable {
    /// Prices older than this are flagged (and reports warn about them).
    public static let staleDays = 90

    public struct Row: Sendable, Equatable {
        public var provider: String
        public var type: String
        /// The region the price is for (`any`: every region).
        public var region: String
        public var price: String
        public var currency: String
        public var status: String
        public var asOf: String
        public var ageDays: Int?
        public var source: String
        public var isStale: Bool { (ageDays ?? 0) > PriceTable.staleDays }
    }

    public static func rows(catalog: Catalog, provider: String? = nil, now: Date = Date()) -> [Row] {
        var out: [Row] = []
        for p in catalog.providers where provider == nil || provider == p {
            for (name, type) in (catalog.types[p] ?? [:]).sorted(by: { $0.key < $1.key }) {
                guard !type.prices.isEmpty else {
                    out.append(Row(provider: p, type: name, region: "-", price: "-", currency: "-", status: "none", asOf: "-",
                                   ageDays: nil, source: "-"))
                    continue
                }
                for price in type.prices {
                    out.append(Row(provider: p, type: name, region: price.region ?? "-", price: price.money.amountText,
                                   currency: price.money.currency, status: price.status.rawValue, asOf: price.asOf,
                                   ageDays: ageInDays(price.asOf, now: now), source: price.source))
                }
            }
        }
        return out
    }

    /// Whole days from `asOf` (`YYYY-MM-DD` or ISO 8601 with time) to `now`; nil when unreadable.
    public static func ageInDays(_ asOf: String, now: Date) -> Int? {
        guard let date = parseDate(asOf) else { return nil }
        return Int((now.timeIntervalSince(date) / 86400).rounded(.down))
    }

    static func parseDate(_ s: String) -> Date? {
        let iso = ISO8601DateFormatter()
        if let d = iso.date(from: s) { return d }
        iso.formatOptions = [.withFullDate]
        return iso.date(from: String(s.prefix(10)))
    }

    /// Aligned plain-text columns, then a line saying how many prices are stale.
    public static func render(_ rows: [Row]) -> String {
        let header = ["PROVIDER", "TYPE", "REGION", "PRICE/H", "CURRENCY", "STATUS", "AS OF", "AGE (DAYS)", "SOURCE"]
        let cells = rows.map { r -> [String] in
            let age = r.ageDays.map { r.isStale ? "\($0) (old)" : "\($0)" } ?? "?"
            return [r.provider, r.type, r.region, r.price, r.currency, r.status, r.asOf, age, r.source]
        }
        var out = TextTable.render([header] + cells)
        let stale = rows.filter(\.isStale).count
        let priced = rows.filter { $0.status != "none" }.count
        if stale > 0 {
            out += "\n\(stale) of \(priced) prices are older than \(staleDays) days; `cloudbench prices refresh` fetches current ones.\n"
        } else if priced > 0 {
            out += "\nAll \(priced) prices are at most \(staleDays) days old.\n"
        }
        return out
    }
}
