import Foundation
import CloudbenchCore

/// Builds a `ReportModel` from records: a pure function of records, catalog and options.
public enum ReportBuilder {
    public static func build(records: [ResultRecord], catalog: Catalog, options: ReportOptions = ReportOptions(),
                             inputWarnings: [String] = [], duplicates: Int = 0) -> ReportModel {
        let cells = ResultStatistics.cells(records)
        let newest = records.map(\.time).max()

        // One pass over the records for what rows need besides statistics: pairs and newest price.
        struct RowFacts {
            var pairs: Set<String> = []
            var lastPair = ""
            /// Index into `records` (an index, not a copy: copying a record per row update is costly).
            var newestPriced: Int?
        }
        var factSlots: [RowKey: Int] = [:]
        var factList: [RowFacts] = []
        var runSlots: [String: Int] = [:]
        var runList: [ReportModel.RunLine] = []
        var failed = 0
        // Fields are read through the buffer: binding whole records would copy (retain) each one.
        records.withUnsafeBufferPointer { rs in
            for index in rs.indices {
                let row = RowKey(provider: rs[index].provider, type: rs[index].type, placement: rs[index].placement)
                let fi: Int
                if let s = factSlots[row] { fi = s } else { fi = factList.count; factSlots[row] = fi; factList.append(RowFacts()) }
                if factList[fi].lastPair != rs[index].pair { factList[fi].pairs.insert(rs[index].pair); factList[fi].lastPair = rs[index].pair }
                if rs[index].price != nil {
                    if let n = factList[fi].newestPriced {
                        if rs[index].time > rs[n].time || (rs[index].time == rs[n].time && rs[index].id > rs[n].id) {
                            factList[fi].newestPriced = index
                        }
                    } else {
                        factList[fi].newestPriced = index
                    }
                }
                let ri: Int
                if let s = runSlots[rs[index].runID] { ri = s } else {
                    ri = runList.count
                    runSlots[rs[index].runID] = ri
                    runList.append(ReportModel.RunLine(runID: rs[index].runID, records: 0, failed: 0,
                                                       firstTime: rs[index].time, lastTime: rs[index].time))
                }
                runList[ri].records += 1
                if rs[index].status == .failed { runList[ri].failed += 1; failed += 1 }
                if rs[index].time < runList[ri].firstTime { runList[ri].firstTime = rs[index].time }
                if rs[index].time > runList[ri].lastTime { runList[ri].lastTime = rs[index].time }
            }
        }
        let facts = factSlots.mapValues { factList[$0] }
        let runs = runList

        // Labels: the placement is part of the label when a provider has rows at several placements.
        var placements: [String: Set<String>] = [:]
        for row in facts.keys { placements[row.provider, default: []].insert(row.placement ?? "") }
        func label(_ row: RowKey) -> String {
            guard let p = row.placement, (placements[row.provider]?.count ?? 0) > 1 else { return row.type }
            return "\(row.type) (\(p))"
        }

        func price(_ row: RowKey) -> ReportModel.RowPrice? {
            let pairs = facts[row]?.pairs.sorted() ?? []
            if let pair = pairs.first(where: { options.priceOverrides[$0] != nil }), let p = options.priceOverrides[pair] {
                return .init(money: p.money, status: p.status.rawValue, source: p.source, asOf: String(p.asOf.prefix(10)),
                             origin: .override(pair: pair))
            }
            if let n = facts[row]?.newestPriced, let money = records[n].price {
                let r = records[n]
                // A run that priced the cell from the catalog: keep the catalog's source and date.
                if let p = catalog.type(row.provider, row.type)?.price, p.money == money {
                    return .init(money: p.money, status: p.status.rawValue, source: p.source, asOf: String(p.asOf.prefix(10)),
                                 origin: .catalog)
                }
                let source = "recorded with run \(r.runID)" + (r.source.map { " (\($0))" } ?? "")
                return .init(money: money, status: "recorded", source: source, asOf: String(r.time.prefix(10)),
                             origin: .record(runID: r.runID))
            }
            if let p = catalog.type(row.provider, row.type)?.price {
                return .init(money: p.money, status: p.status.rawValue, source: p.source, asOf: String(p.asOf.prefix(10)),
                             origin: .catalog)
            }
            return nil
        }

        let factor = options.unit.factor
        func perPrice(_ s: Summary?, _ amount: Decimal?) -> Double? {
            guard let s, let amount, amount > 0 else { return nil }
            return s.mean * factor / NSDecimalNumber(decimal: amount).doubleValue
        }

        // Host rows per provider, and the ranking.
        var sections: [String: [ReportModel.HostRow]] = [:]
        var ranking: [ReportModel.RankingRow] = []
        var conversions: Set<ExchangeRates.Conversion> = []
        var priceLines: [ReportModel.PriceLine] = []
        let rowKeys = Set(cells.keys.filter { $0.path == "host" }.map(\.row))
        for row in rowKeys.sorted() {
            let bw = cells[CellKey(provider: row.provider, type: row.type, placement: row.placement, path: "host", test: "tcp_bw")]
            let lat = cells[CellKey(provider: row.provider, type: row.type, placement: row.placement, path: "host", test: "tcp_lat")]
            let p = price(row)
            sections[row.provider, default: []].append(ReportModel.HostRow(
                key: row, label: label(row), throughput: bw, latency: lat, price: p,
                throughputPerPrice: perPrice(bw?.summary, p?.money.amount)))
            var rank = ReportModel.RankingRow(rank: nil, key: row, providerName: catalog.displayName(of: row.provider),
                                              label: label(row), throughput: bw?.summary, price: p)
            if bw?.summary == nil {
                rank.missingReason = "no throughput measured"
            } else if let p {
                if let (converted, conversion) = catalog.exchangeRates.convert(p.money, to: options.currency, on: p.asOf) {
                    rank.converted = converted
                    rank.conversion = conversion
                    if let conversion { conversions.insert(conversion) }
                    rank.throughputPerPrice = perPrice(bw?.summary, converted.amount)
                    if rank.throughputPerPrice == nil { rank.missingReason = "zero price" }
                } else {
                    rank.missingReason = "no exchange rate from \(p.money.currency) to \(options.currency) in providers/fx.yaml"
                }
            } else {
                rank.missingReason = "no price"
            }
            ranking.append(rank)
        }
        ranking.sort { a, b in
            switch (a.throughputPerPrice, b.throughputPerPrice) {
            case let (x?, y?) where x != y: return x > y
            case (_?, nil): return true
            case (nil, _?): return false
            default: return (a.providerName, a.label) < (b.providerName, b.label)
            }
        }
        var n = 0
        for i in ranking.indices where ranking[i].throughputPerPrice != nil {
            n += 1
            ranking[i].rank = n
        }

        // Within a provider: by placement, then price (cheapest first), then type name.
        let providerSections = sections.map { provider, rows in
            ReportModel.ProviderSection(provider: provider, displayName: catalog.displayName(of: provider), rows: rows.sorted { a, b in
                let pa = a.price.flatMap { catalog.exchangeRates.convert($0.money, to: "USD", on: $0.asOf)?.0.amount }
                let pb = b.price.flatMap { catalog.exchangeRates.convert($0.money, to: "USD", on: $0.asOf)?.0.amount }
                let oa = placementOrder(a.key.placement), ob = placementOrder(b.key.placement)
                if oa != ob { return oa < ob }
                switch (pa, pb) {
                case let (x?, y?) where x != y: return x < y
                case (_?, nil): return true
                case (nil, _?): return false
                default: return a.key < b.key
                }
            })
        }.sorted { ($0.displayName, $0.provider) < ($1.displayName, $1.provider) }

        for section in providerSections {
            for row in section.rows {
                guard let p = row.price else { continue }
                priceLines.append(ReportModel.PriceLine(providerName: section.displayName, label: row.label, price: p,
                                                        staleDays: staleDays(p.asOf, newest: newest, limit: options.staleAfterDays)))
            }
        }

        // Overlays: every non-host path, next to host on the same row.
        var overlays: [ReportModel.OverlayRow] = []
        let overlayKeys = Set(cells.keys.filter { $0.path != "host" }.map { CellKey(provider: $0.provider, type: $0.type, placement: $0.placement, path: $0.path, test: "") })
        for k in overlayKeys.sorted() {
            let bwKey = CellKey(provider: k.provider, type: k.type, placement: k.placement, path: k.path, test: "tcp_bw")
            let latKey = CellKey(provider: k.provider, type: k.type, placement: k.placement, path: k.path, test: "tcp_lat")
            let hostBW = cells[CellKey(provider: k.provider, type: k.type, placement: k.placement, path: "host", test: "tcp_bw")]
            let hostLat = cells[CellKey(provider: k.provider, type: k.type, placement: k.placement, path: "host", test: "tcp_lat")]
            overlays.append(ReportModel.OverlayRow(
                key: k.row, label: label(k.row), providerName: catalog.displayName(of: k.provider), path: k.path,
                throughput: cells[bwKey], latency: cells[latKey],
                throughputVsHost: ResultStatistics.penalty(of: bwKey, in: cells),
                latencyVsHost: ResultStatistics.penalty(of: latKey, in: cells),
                hostMissing: hostBW?.summary == nil && hostLat?.summary == nil))
        }
        overlays.sort { ($0.providerName, $0.key, $0.path) < ($1.providerName, $1.key, $1.path) }

        let unusable = cells.values.reduce(0) { $0 + $1.unusable }
        // Each cell with records left out is named, so a reader knows which figure stands on fewer values.
        let cellWarnings = cells.values.filter { $0.unusable > 0 }.sorted { $0.key < $1.key }.map { c in
            "\(catalog.displayName(of: c.key.provider)) \(label(c.key.row)) \(c.key.path) \(c.key.test): \(c.unusable) record"
                + (c.unusable == 1 ? "" : "s") + " without a usable value (missing, not finite, too large to average, "
                + "or in a unit that does not fit the test), left out"
                + (c.summary == nil ? "; the cell has no figure" : "")
        }
        let footer = ReportModel.Footer(records: records.count, failed: failed, unusable: unusable, newestRecordTime: newest,
                                        runs: runs.sorted { ($0.firstTime, $0.runID) < ($1.firstTime, $1.runID) },
                                        prices: priceLines, conversions: conversions.sorted(),
                                        inputWarnings: inputWarnings + cellWarnings, duplicates: duplicates)
        return ReportModel(title: options.title ?? "Network throughput and latency per unit of price", options: options,
                           providers: providerSections, overlays: overlays, ranking: ranking, footer: footer)
    }

    /// Nearest first for the placements cloudbench knows, then any other alphabetically.
    static func placementOrder(_ p: String?) -> (Int, String) {
        let known = ["same-host", "same-az", "same-zone", "placement-group", "same-region", "cross-az", "cross-zone", "cross-region"]
        guard let p else { return (-1, "") }
        return (known.firstIndex(of: p) ?? known.count, p)
    }

    /// Whole days from `asOf` to the newest record, when more than `limit`.
    static func staleDays(_ asOf: String, newest: String?, limit: Int) -> Int? {
        guard let newest, let a = day(asOf), let b = day(String(newest.prefix(10))) else { return nil }
        let days = b - a
        return days > limit ? days : nil
    }

    /// Days since 1970-01-01 of `YYYY-MM-DD` (proleptic Gregorian, no time zone involved).
    static func day(_ s: String) -> Int? {
        let parts = s.prefix(10).split(separator: "-").compactMap { Int($0) }
        guard parts.count == 3 else { return nil }
        var (y, m) = (parts[0], parts[1])
        let d = parts[2]
        if m <= 2 { y -= 1; m += 12 }
        let era = y / 400, yoe = y - era * 400
        let doy = (153 * (m - 3) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }
}
