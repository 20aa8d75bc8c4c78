import Foundation

/// Dated exchange rates from `providers/fx.yaml`, as units of each currency per 1 USD.
///
/// A conversion uses the table dated closest to the price's own date (preferring one on or
/// before it), so a 2015 price is converted at a 2015 rate, and says which rate it used.
public struct ExchangeRates: Sendable {
    public struct Table: Sendable, Hashable {
        public var date: String
        public var source: String
        /// Units of the currency per 1 USD.
        public var perUSD: [String: Decimal]
    }

    /// A conversion that happened, for the report's footer.
    public struct Conversion: Hashable, Sendable, Comparable {
        public var from: String
        public var to: String
        /// Units of `to` per 1 unit of `from`.
        public var rate: Decimal
        public var date: String
        public var source: String

        public static func < (a: Conversion, b: Conversion) -> Bool {
            (a.from, a.to, a.date) < (b.from, b.to, b.date)
        }
    }

    public var tables: [Table]

    public init(tables: [Table]) { self.tables = tables.sorted { $0.date < $1.date } }

    /// Every currency code any table knows (USD always).
    public var currencies: Set<String> {
        var s: Set<String> = ["USD"]
        for t in tables { s.formUnion(t.perUSD.keys) }
        return s
    }

    /// Converts `money` to `currency` at the rate dated nearest `date`; nil when no table has both.
    public func convert(_ money: Money, to currency: String, on date: String) -> (Money, Conversion?)? {
        if money.currency == currency { return (money, nil) }
        let usable = tables.filter { t in
            (money.currency == "USD" || t.perUSD[money.currency] != nil) && (currency == "USD" || t.perUSD[currency] != nil)
        }
        let day = String(date.prefix(10))
        guard let table = usable.last(where: { $0.date <= day }) ?? usable.first else { return nil }
        let fromPerUSD = money.currency == "USD" ? 1 : table.perUSD[money.currency]!
        let toPerUSD = currency == "USD" ? 1 : table.perUSD[currency]!
        let rate = toPerUSD / fromPerUSD
        let conversion = Conversion(from: money.currency, to: currency,
                                    rate: Money.rounded(rate, places: 6), date: table.date, source: table.source)
        return (Money(money.amount * rate, currency), conversion)
    }

    /// Loads `fx.yaml`: `tables: [{date, source, per_usd: {EUR: 0.89, …}}]`.
    public static func load(path: String) throws -> ExchangeRates {
        let doc = try YAMLDocument.load(path: path)
        let sink = DiagnosticSink()
        var tables: [Table] = []
        if let root = doc.root, let top = MappingReader(root, in: doc, context: "the exchange-rate file", sink: sink) {
            if let list = top.value("tables") {
                for item in list.sequence ?? [] {
                    guard let r = MappingReader(item, in: doc, context: "a rate table", sink: sink) else { continue }
                    let date = r.string("date", required: true)?.0 ?? ""
                    let source = r.string("source", required: true)?.0 ?? ""
                    var rates: [String: Decimal] = [:]
                    if let m = r.value("per_usd"), let mapping = m.mapping {
                        for (k, v) in mapping {
                            guard let code = k.string, let text = v.string, let d = Money.decimal(text), d > 0 else {
                                sink.add(doc.location(v), "a rate must be a positive decimal number")
                                continue
                            }
                            rates[code] = d
                        }
                    } else {
                        sink.add(r.keyLocation("per_usd"), "a rate table needs 'per_usd' with units per 1 USD")
                    }
                    r.finish()
                    tables.append(Table(date: date, source: source, perUSD: rates))
                }
            }
            top.finish()
        }
        if !sink.isEmpty { throw InputErrors(sink.diagnostics) }
        return ExchangeRates(tables: tables)
    }
}
