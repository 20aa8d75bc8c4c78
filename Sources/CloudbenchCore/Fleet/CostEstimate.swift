import Foundation

/// What a fleet's run will cost, worked out before anything is created.
///
/// Every instance lives for the whole run: the compare time of every pair one after another
/// (an upper bound: `compare` runs pairs side by side), plus the provider's overhead for creating
/// and tearing down; that time is rounded up to the billing unit, with the billing minimum.
/// Bandwidth tests between zones move documented-rate × measuring-time bytes across them.
public struct CostEstimate: Sendable {
    public struct Line: Sendable, Hashable {
        /// e.g. `instances c5-cross (c5.large, us-east-1)`.
        public var item: String
        /// e.g. `4 × 0.25 h`.
        public var quantity: String
        public var unitPrice: Money
        /// What the unit price is per: `h`, `GB-month`, `GB`.
        public var per: String
        public var amount: Money
    }

    public var lines: [Line]
    /// In the fleet's currency.
    public var total: Money
    /// Billed seconds per instance.
    public var billedSeconds: Int
    public var instances: Int
    public var crossZoneBytes: Double
    /// Conversions used to reach the fleet's currency (named in the table).
    public var conversions: [ExchangeRates.Conversion]

    /// Refusals: a charge has no price for a region (the message names it and what to do).
    public struct Missing: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    public init(fleet: Fleet, catalog: Catalog, prices: ProvisionPrices) throws {
        let run = fleet.run
        var runSeconds = 0.0
        for _ in fleet.entries.flatMap(\.pairNames) {
            let cells = Double(run.tests.count * run.paths.count * run.repetitions)
            let overlays = Double(run.paths.filter(\.needsRoot).count * run.tests.count * run.repetitions)
            runSeconds += cells * (run.warmup.seconds + run.duration.seconds + TimeEstimate.cellOverhead) + overlays * TimeEstimate.overlaySetup
        }
        runSeconds += TimeEstimate.runSetup + Double(prices.overheadSeconds)
        let unit = max(1, prices.billingUnit)
        let units = Int((runSeconds / Double(unit)).rounded(.up))
        var billed = max(prices.billingMinimum, units * unit)
        // DigitalOcean bills hourly up to its monthly price: a month's run costs no more than that.
        if let cap = prices.billingMonthlyCap, billed > cap {
            let months = Int((runSeconds / (730 * 3600)).rounded(.up))
            billed = min(billed, max(1, months) * cap)
        }
        billedSeconds = billed
        let hours = Decimal(billed) / 3600
        var lines: [Line] = []
        var conversions: [ExchangeRates.Conversion] = []
        var total = Decimal(0)
        var instanceCount = 0
        var crossBytes = 0.0
        let currency = fleet.currency

        func inFleetCurrency(_ m: Money, date: String) throws -> Money {
            if m.currency == currency { return m }
            guard let (converted, conversion) = catalog.exchangeRates.convert(m, to: currency, on: date) else {
                throw Missing(description: "no exchange rate from \(m.currency) to \(currency) in providers/fx.yaml")
            }
            if let conversion, !conversions.contains(conversion) { conversions.append(conversion) }
            return converted
        }
        func add(_ item: String, _ quantity: String, unitPrice: HourlyPrice, per: String = "h", times: Decimal) throws {
            let unitMoney = try inFleetCurrency(unitPrice.money, date: unitPrice.asOf)
            let amount = Money(unitMoney.amount * times, currency)
            total += amount.amount
            lines.append(Line(item: item, quantity: quantity, unitPrice: unitMoney, per: per, amount: amount))
        }
        func need(_ list: [HourlyPrice], _ what: String, _ region: String) throws -> HourlyPrice {
            guard let p = ProvisionPrices.price(list, region: region) else {
                throw Missing(description: "no \(what) price for region \(region) in \(ProvisionPrices.path(directory: "providers", provider: prices.provider)); add one (prices are never borrowed from another region)")
            }
            return p
        }
        let hoursText = Self.hoursText(billed)
        for e in fleet.entries {
            let n = 2 * e.count
            instanceCount += n
            guard let price = catalog.price(e.provider, e.type, region: e.region) else {
                throw Missing(description: "no \(e.provider) price for \(e.type) in \(e.region); run `cloudbench prices refresh --provider \(e.provider) --region \(e.region)` or add it to providers/\(e.provider).yaml (prices are never borrowed from another region)")
            }
            try add("instances \(e.name) (\(e.type), \(e.region))", "\(n) × \(hoursText)", unitPrice: price, times: Decimal(n) * hours)
            let ipv4 = try need(prices.publicIPv4Hour, "public IPv4", e.region)
            try add("public IPv4 \(e.name)", "\(n) × \(hoursText)", unitPrice: ipv4, times: Decimal(n) * hours)
            let disk = try need(prices.diskGBMonth, "disk", e.region)
            try add("disks \(e.name) (\(prices.rootDiskGB) GB each)", "\(n * prices.rootDiskGB) GB × \(hoursText)",
                    unitPrice: disk, per: "GB-month", times: Decimal(n * prices.rootDiskGB) * hours / 730)
            if e.crossesZones {
                let gbit = catalog.type(e.provider, e.type).flatMap { Self.gigabits($0.documentedNetwork) } ?? prices.fallbackGbit
                var bytes = 0.0
                for test in run.tests where test != .tcpLatency && test != .tcpConnectRequestResponse {
                    var rate = gbit * 1e9 / 8
                    if test == .udpBandwidth { rate = min(rate, Double(run.udpRate)) }
                    if test == .udpPackets { rate = min(rate, Double(run.udpPacketRate * run.udpPacketPayload)) }
                    bytes += rate * (run.warmup.seconds + run.duration.seconds) * Double(run.paths.count * run.repetitions)
                }
                bytes *= Double(e.count)
                crossBytes += bytes
                let gb = Decimal(string: String(format: "%.3f", bytes / 1e9)) ?? 0
                let perGB = try need(prices.crossZoneGB, "cross-zone traffic", e.region)
                try add("cross-zone traffic \(e.name) (\(Self.plain(gbit)) Gbit/s)", "\(Money.plain(gb)) GB", unitPrice: perGB, per: "GB", times: gb)
            }
        }
        self.lines = lines
        self.total = Money(Money.rounded(total, places: 4), currency)
        self.instances = instanceCount
        self.crossZoneBytes = crossBytes
        self.conversions = conversions
    }

    /// The figure of `Up to 10 Gigabit`, `25 Gigabit` or `12.5 Gigabit`; nil for words such as `Moderate`.
    public static func gigabits(_ text: String) -> Double? {
        let words = text.split(separator: " ")
        guard let i = words.firstIndex(where: { $0.lowercased().hasPrefix("gigabit") }), i > 0,
              let g = Double(words[i - 1]), g > 0, g <= 1000 else { return nil }
        return g
    }

    static func hoursText(_ seconds: Int) -> String {
        seconds % 3600 == 0 ? "\(seconds / 3600) h" : "\(seconds) s"
    }

    static func plain(_ d: Double) -> String { d == d.rounded() ? String(Int(d)) : String(d) }

    /// The table `provision` prints: item, quantity, unit price, amount, and the total.
    public var table: String {
        var rows = [["item", "quantity", "unit price", "amount"]]
        for l in lines {
            rows.append([l.item, l.quantity, "\(Money.plain(Money.rounded(l.unitPrice.amount, places: 6))) \(l.unitPrice.currency)/\(l.per)",
                         "\(Money.plain(Money.rounded(l.amount.amount, places: 4))) \(l.amount.currency)"])
        }
        rows.append(["total", "\(instances) instances, \(billedSeconds) s billed each", "", "\(total.amountText) \(total.currency)"])
        let widths = (0..<4).map { c in rows.map { $0[c].count }.max() ?? 0 }
        var out = rows.map { r in
            r.enumerated().map { c, v in c == 3 ? String(repeating: " ", count: widths[c] - v.count) + v
                : v + String(repeating: " ", count: widths[c] - v.count) }.joined(separator: "  ")
                .trimmingCharacters(in: .whitespaces)
        }
        for c in conversions { out.append("converted at \(c.from)→\(c.to) \(Money.plain(c.rate)) (\(c.date), \(c.source))") }
        return out.joined(separator: "\n")
    }
}
