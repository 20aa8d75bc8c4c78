import Foundation
import CloudbenchCore

/// Builds a `ReportModel` from records: a pure function of records, catalog and options.
///
/// Records are grouped once, by `CellIdentity` (`ResultStatistics.cells`); everything below
/// works on those cells. A row shows the throughput and the latency cell of the same instances
/// and path side by side; cells that differ in region, placement or knobs are separate rows.
public enum ReportBuilder {
    static let rowTests: Set<String> = ["tcp_bw", "tcp_lat"]
    /// Tests with a section of their own, in the report's order.
    static let sectionOrder = ["tcp_bw", "tcp_lat", "tcp_crr", "udp_bw", "udp_pps", "http"]
    static let sectionTests = Set(sectionOrder)

    public static func build(records: [ResultRecord], catalog: Catalog, options: ReportOptions = ReportOptions(),
                             inputWarnings: [String] = [], duplicates: Int = 0) -> ReportModel {
        let (cells, details) = cellsAndDetails(records)
        let newest = newestTime(records)
        let (runs, failed) = runLines(records)
        let runLabel = Dictionary(uniqueKeysWithValues: runs.map { ($0.runID, $0.label) })
        func labels(_ cs: [CellStatistics?]) -> [String] {
            Set(cs.compactMap { $0 }.flatMap(\.runIDs)).compactMap { runLabel[$0] }
                .sorted { (Int($0.dropFirst()) ?? 0) < (Int($1.dropFirst()) ?? 0) }
        }

        let rowKeys = pairUp(cells.keys.filter { rowTests.contains($0.test) })
        let hostKeys = rowKeys.filter { $0.cell.path == "host" }
        let throughputSetups = Set(rowKeys.compactMap { $0.throughput?.setup })
        let layout = ReportModel.Layout(placement: cells.keys.contains { $0.placement != nil },
                                        setup: throughputSetups.count > 1,
                                        commonSetup: throughputSetups.count == 1 ? throughputSetups.first : nil,
                                        runs: runs.count > 1)

        /// `D2s_v5 (westeurope, same-zone, 8 streams)`: what sets the row apart, for lines outside the tables.
        func label(_ key: ReportModel.RowKey) -> String {
            let c = key.cell
            var parts = [c.region ?? "no region"]
            if let p = c.placement { parts.append(p) }
            if layout.setup { parts.append(SetupText.text(c.setup, test: c.test)) }
            return "\(c.type) (\(parts.joined(separator: ", ")))"
        }

        /// The row's price, or why there is none: a short reason for the row and a sentence for the warnings.
        func price(_ key: ReportModel.RowKey) -> (ReportModel.RowPrice?, (row: String, warning: String)?) {
            let c = key.cell
            let stats = [key.throughput, key.latency].compactMap { $0.flatMap { cells[$0] } }
            let pairs = Set(stats.flatMap(\.pairs)).sorted()
            if let pair = pairs.first(where: { options.priceOverrides[$0] != nil }), let p = options.priceOverrides[pair] {
                return (.init(money: p.money, status: p.status.rawValue, source: p.source, asOf: String(p.asOf.prefix(10)),
                              origin: .override(pair: pair), region: p.region), nil)
            }
            let regional = catalog.price(c.provider, c.type, region: c.region)
            func fromCatalog(_ p: HourlyPrice) -> ReportModel.RowPrice {
                .init(money: p.money, status: p.status.rawValue, source: p.source, asOf: String(p.asOf.prefix(10)),
                      origin: .catalog, region: p.region)
            }
            let recorded = stats.compactMap(\.recordedPrice).max { ($0.time, $0.runID) < ($1.time, $1.runID) }
            if let r = recorded {
                // A run that priced the cell from the catalog: keep the catalog's source and date.
                if let p = regional, p.money == r.money { return (fromCatalog(p), nil) }
                let source = "recorded with run \(r.runID)" + (r.source.map { " (\($0))" } ?? "")
                return (.init(money: r.money, status: "recorded", source: source, asOf: String(r.time.prefix(10)),
                              origin: .record(runID: r.runID), region: c.region), nil)
            }
            if let p = regional { return (fromCatalog(p), nil) }
            let regions = catalog.type(c.provider, c.type)?.pricedRegions ?? []
            guard !regions.isEmpty else { return (nil, nil) }
            let elsewhere = regions.joined(separator: ", ")
            let name = "\(catalog.displayName(of: c.provider)) \(c.type)"
            guard let region = c.region else {
                return (nil, ("no region (catalog: \(elsewhere))",
                              "No price for \(name): its records name no region, and the catalog prices it only in \(elsewhere); "
                              + "give the pair a `price:` in the inventory, or record the region (`import … --region`)."))
            }
            return (nil, ("no price for \(region) (catalog: \(elsewhere))",
                          "No price for \(name) in \(region): the catalog prices it only in \(elsewhere), and another region's "
                          + "price is never used. `cloudbench prices refresh --provider \(c.provider) --region \(region)` fetches it, "
                          + "or give the pair a `price:` in the inventory."))
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
        var missingPrices: [String] = []
        for key in hostKeys {
            let c = key.cell
            let bw = key.throughput.flatMap { cells[$0] }, lat = key.latency.flatMap { cells[$0] }
            let (p, why) = price(key)
            let name = catalog.displayName(of: c.provider)
            let missing = why?.row
            if let why { missingPrices.append(why.warning) }
            sections[c.provider, default: []].append(ReportModel.HostRow(
                key: key, label: label(key), throughput: bw, latency: lat, price: p, priceMissing: missing,
                throughputPerPrice: perPrice(bw?.summary, p?.money.amount), runs: labels([bw, lat])))
            var rank = ReportModel.RankingRow(rank: nil, key: key, providerName: name, label: label(key),
                                              throughput: bw?.summary, price: p)
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
                rank.missingReason = missing ?? "no price"
            }
            ranking.append(rank)
        }
        ranking.sort { a, b in
            switch (a.throughputPerPrice, b.throughputPerPrice) {
            case let (x?, y?) where x != y: return x > y
            case (_?, nil): return true
            case (nil, _?): return false
            default: return (a.providerName, a.key) < (b.providerName, b.key)
            }
        }
        var n = 0
        for i in ranking.indices where ranking[i].throughputPerPrice != nil {
            n += 1
            ranking[i].rank = n
        }

        // Within a provider: by region, placement and knobs, then price (cheapest first), then type name.
        let providerSections = sections.map { provider, rows in
            ReportModel.ProviderSection(provider: provider, displayName: catalog.displayName(of: provider), rows: rows.sorted { a, b in
                let x = a.key.cell, y = b.key.cell
                if (x.region ?? "") != (y.region ?? "") { return (x.region ?? "") < (y.region ?? "") }
                let oa = CellIdentity.placementOrder(x.placement), ob = CellIdentity.placementOrder(y.placement)
                if oa != ob { return oa < ob }
                if x.setup != y.setup { return x.setup < y.setup }
                let pa = a.price.flatMap { catalog.exchangeRates.convert($0.money, to: "USD", on: $0.asOf)?.0.amount }
                let pb = b.price.flatMap { catalog.exchangeRates.convert($0.money, to: "USD", on: $0.asOf)?.0.amount }
                switch (pa, pb) {
                case let (x?, y?) where x != y: return x < y
                case (_?, nil): return true
                case (nil, _?): return false
                default: return a.key < b.key
                }
            })
        }.sorted { ($0.displayName, $0.provider) < ($1.displayName, $1.provider) }

        var priceLines: [ReportModel.PriceLine] = []
        for section in providerSections {
            for row in section.rows {
                guard let p = row.price else { continue }
                priceLines.append(ReportModel.PriceLine(providerName: section.displayName, label: row.label, price: p,
                                                        staleDays: staleDays(p.asOf, newest: newest, limit: options.staleAfterDays)))
            }
        }

        // Overlays: every non-host path, beside `host` on the same instances and knobs.
        var overlays: [ReportModel.OverlayRow] = []
        for key in rowKeys where key.cell.path != "host" {
            let hostBW = key.throughput.flatMap { cells[$0.on(path: "host")] }
            let hostLat = key.latency.flatMap { cells[$0.on(path: "host")] }
            let bw = key.throughput.flatMap { cells[$0] }, lat = key.latency.flatMap { cells[$0] }
            overlays.append(ReportModel.OverlayRow(
                key: key, label: label(key), providerName: catalog.displayName(of: key.cell.provider), path: key.cell.path,
                throughput: bw, latency: lat,
                throughputVsHost: key.throughput.flatMap { ResultStatistics.penalty(of: $0, in: cells) },
                latencyVsHost: key.latency.flatMap { ResultStatistics.penalty(of: $0, in: cells) },
                hostMissing: hostBW?.summary == nil && hostLat?.summary == nil, runs: labels([bw, lat])))
        }
        // By provider name, type, region and path, then the rest of the identity.
        overlays.sort { a, b in
            let x = a.key.cell, y = b.key.cell
            let ka = (a.providerName, x.type, x.region ?? "", x.path), kb = (b.providerName, y.type, y.region ?? "", y.path)
            return ka != kb ? ka < kb : a.key < b.key
        }

        // Other tests: one row per cell, by provider name and test, then the rest of the identity.
        let others = cells.values.filter { !sectionTests.contains($0.key.test) }.sorted { a, b in
            let ka = (catalog.displayName(of: a.key.provider), a.key.test), kb = (catalog.displayName(of: b.key.provider), b.key.test)
            return ka != kb ? ka < kb : a.key < b.key
        }.map { c in
            ReportModel.OtherRow(cell: c, label: label(ReportModel.RowKey(throughput: c.key, latency: nil)),
                                 providerName: catalog.displayName(of: c.key.provider), runs: labels([c]))
        }

        // A section per measured test, with the figures read from `detail`.
        func name(_ c: CellIdentity) -> String { catalog.displayName(of: c.provider) }
        var tests: [ReportModel.TestSection] = []
        for test in sectionOrder {
            let list = cells.values.filter { $0.key.test == test }.sorted { a, b in
                name(a.key) != name(b.key) ? name(a.key) < name(b.key) : a.key < b.key
            }
            guard !list.isEmpty else { continue }
            var rows = list.map { c in
                ReportModel.TestRow(cell: c, label: label(ReportModel.RowKey(throughput: c.key, latency: nil)),
                                    providerName: name(c.key), runs: labels([c]), figures: details.figures[c.key] ?? [:])
            }
            var sweep = false
            if test == "udp_bw" {
                // The same instances, path and knobs at several offered rates: the highest rate under 1 % loss.
                var groups: [CellIdentity: [Int]] = [:]
                for (i, r) in rows.enumerated() {
                    var g = r.cell.key
                    g.setup.udpRate = nil
                    groups[g, default: []].append(i)
                }
                for (_, members) in groups where Set(members.compactMap { rows[$0].cell.key.setup.udpRate }).count > 1 {
                    sweep = true
                    let best = members.filter { (rows[$0].figures[.udpLoss]?.mean ?? 100) < 1 }
                        .compactMap { rows[$0].cell.key.setup.udpRate }.max()
                    for i in members { rows[i].highestRateUnder1PercentLoss = best }
                }
            }
            let present = Set(rows.flatMap(\.figures.keys))
            tests.append(ReportModel.TestSection(test: test, rows: rows,
                                                 figures: DetailFigures.Figure.of(test: test).filter(present.contains),
                                                 rateSweep: sweep))
        }
        let timelines = details.timelines.map { t in
            ReportModel.TimelineRow(timeline: t, label: label(ReportModel.RowKey(throughput: t.cell, latency: nil)),
                                    providerName: name(t.cell))
        }.sorted { a, b in
            a.providerName != b.providerName ? a.providerName < b.providerName : (a.timeline.cell, a.timeline.recordID) < (b.timeline.cell, b.timeline.recordID)
        }

        let unusable = cells.values.reduce(0) { $0 + $1.unusable }
        // Each cell with records left out is named, so a reader knows which figure stands on fewer values.
        let cellWarnings = cells.values.filter { $0.unusable > 0 }.sorted { $0.key < $1.key }.map { c in
            "\(catalog.displayName(of: c.key.provider)) \(label(ReportModel.RowKey(throughput: c.key, latency: nil))) \(c.key.path) \(c.key.test): \(c.unusable) record"
                + (c.unusable == 1 ? "" : "s") + " without a usable value (missing, not finite, too large to average, "
                + "or in a unit that does not fit the test), left out"
                + (c.summary == nil ? "; the cell has no figure" : "")
        }
        let footer = ReportModel.Footer(records: records.count, failed: failed, unusable: unusable, newestRecordTime: newest,
                                        runs: runs, prices: priceLines, missingPrices: missingPrices.sorted(),
                                        conversions: conversions.sorted(), inputWarnings: inputWarnings + cellWarnings, duplicates: duplicates)
        return ReportModel(title: options.title ?? "Network throughput and latency per unit of price", options: options,
                           providers: providerSections, overlays: overlays, others: others, tests: tests,
                           timelines: timelines, ranking: ranking,
                           layout: layout, footer: footer)
    }

    /// The cells and the figures read from `detail`, worked out side by side: the statistics on one
    /// core, the `detail` figures in two halves on the others (both are passes over every record).
    /// Each task writes only its own box, and `concurrentPerform` returns after all of them.
    static func cellsAndDetails(_ records: [ResultRecord])
        -> ([CellIdentity: CellStatistics], (figures: [CellIdentity: DetailFigures.Figures], timelines: [DetailFigures.Timeline])) {
        final class Box<T>: @unchecked Sendable { var value: T? }
        // Each record's cell is worked out once, for both passes.
        let grouping = ResultStatistics.grouping(records)
        let cells = Box<[CellIdentity: CellStatistics]>()
        let parts = [Box<DetailFigures.Partial>(), Box<DetailFigures.Partial>()]
        let half = records.count / 2
        DispatchQueue.concurrentPerform(iterations: 3) { task in
            switch task {
            case 0: cells.value = ResultStatistics.cells(records, grouping: grouping)
            case 1: parts[0].value = DetailFigures.partial(records, 0..<half, grouping: grouping)
            default: parts[1].value = DetailFigures.partial(records, half..<records.count, grouping: grouping)
            }
        }
        return (cells.value!, DetailFigures.merge(parts.map { $0.value! }, grouping: grouping))
    }

    /// The rows for a set of `tcp_bw` and `tcp_lat` cells: per instances and path, each
    /// throughput cell beside the one latency cell there is; when several latency cells differ in
    /// their knobs, none is put beside a throughput (each gets its own row).
    static func pairUp(_ keys: [CellIdentity]) -> [ReportModel.RowKey] {
        var groups: [CellIdentity: (bw: [CellIdentity], lat: [CellIdentity])] = [:]
        for k in keys {
            var anchor = k
            anchor.test = ""
            anchor.setup = TestSetup()
            if k.test == "tcp_bw" { groups[anchor, default: ([], [])].bw.append(k) } else { groups[anchor, default: ([], [])].lat.append(k) }
        }
        var out: [ReportModel.RowKey] = []
        for (_, g) in groups {
            let bw = g.bw.sorted(), lat = g.lat.sorted()
            if lat.count <= 1 {
                out += bw.map { ReportModel.RowKey(throughput: $0, latency: lat.first) }
                if bw.isEmpty, let l = lat.first { out.append(ReportModel.RowKey(throughput: nil, latency: l)) }
            } else {
                out += bw.map { ReportModel.RowKey(throughput: $0, latency: nil) }
                out += lat.map { ReportModel.RowKey(throughput: nil, latency: $0) }
            }
        }
        return out.sorted()
    }

    /// The latest record time (ISO 8601 UTC text compares as the time), read without copying the records.
    static func newestTime(_ records: [ResultRecord]) -> String? {
        records.withUnsafeBufferPointer { rs in
            var newest: String?
            for i in rs.indices where newest.map({ rs[i].time > $0 }) ?? true { newest = rs[i].time }
            return newest
        }
    }

    /// Runs in order of their first record, labelled `r1`, `r2`, …; and the failed-record count.
    static func runLines(_ records: [ResultRecord]) -> ([ReportModel.RunLine], Int) {
        var slots: [String: Int] = [:]
        var list: [ReportModel.RunLine] = []
        var failed = 0
        records.withUnsafeBufferPointer { rs in
            var last = (runID: "", slot: -1)
            for i in rs.indices {
                let ri: Int
                // Consecutive records mostly share a run: skip the lookup (the same text compares fast).
                if last.slot >= 0, rs[i].runID == last.runID { ri = last.slot } else if let s = slots[rs[i].runID] { ri = s } else {
                    ri = list.count
                    slots[rs[i].runID] = ri
                    list.append(ReportModel.RunLine(label: "", runID: rs[i].runID, records: 0, failed: 0,
                                                    firstTime: rs[i].time, lastTime: rs[i].time))
                }
                last = (rs[i].runID, ri)
                list[ri].records += 1
                if rs[i].status == .failed { list[ri].failed += 1; failed += 1 }
                if rs[i].time < list[ri].firstTime { list[ri].firstTime = rs[i].time } else if rs[i].time > list[ri].lastTime { list[ri].lastTime = rs[i].time }
            }
        }
        list.sort { ($0.firstTime, $0.runID) < ($1.firstTime, $1.runID) }
        for i in list.indices { list[i].label = "r\(i + 1)" }
        return (list, failed)
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
