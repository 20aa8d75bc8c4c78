import CloudbenchCore

/// Renders a `ReportModel` as GitHub-flavoured markdown. Missing values read `n/a` with a
/// footnote saying why; nothing missing is ever printed as 0.
public enum MarkdownRenderer {
    /// Footnotes, in the order they are listed at the end.
    enum Note: String, CaseIterable {
        case single, clamped, missing, failed, noPrice = "no-price", noRegionalPrice = "no-regional-price", noHost = "no-host"
        case noRate = "no-rate", reconstructed, paired, welch

        var text: String {
            switch self {
            case .single: return "One successful repetition: there is no confidence interval (shown as n/a, not 0)."
            case .clamped: return "The 95 % interval reaches below what the figure can be (0, or −100 % for a change), so it is shown as low to high, cut there; see docs/statistics.md."
            case .missing: return "No successful measurement in this cell."
            case .failed: return "Failed repetitions are counted here and never averaged in."
            case .noPrice: return "No price: none recorded with the results, given in the inventory or known to the provider catalog."
            case .noRegionalPrice: return "No price for this region: the catalog prices the type elsewhere only, and a price is never borrowed from another region (see Warnings)."
            case .noHost: return "No `host` measurement on the same instances to compare with."
            case .noRate: return "No exchange rate for this currency in providers/fx.yaml, so it cannot be ranked."
            case .reconstructed: return "Reconstructed price: worked out from indirect evidence, not quoted from a price list of the day."
            case .paired: return "Paired: each repetition of the path is compared with the `host` repetition of the same pair, run and round; the interval is the paired t interval of the differences."
            case .welch: return "Unpaired (the rounds of the two paths do not line up one to one): Welch's interval of the difference of the means."
            }
        }
    }

    final class Notes {
        var used: Set<Note> = []
        func ref(_ n: Note) -> String { used.insert(n); return "[^\(n.rawValue)]" }
    }

    /// A chart written beside the markdown, by its file name relative to it.
    public struct ChartLink: Sendable {
        public var title: String
        public var file: String
        public init(title: String, file: String) { self.title = title; self.file = file }
    }

    /// The report; `charts` are linked from the introduction and shown (as images) under a Charts
    /// heading before the sources.
    public static func render(_ m: ReportModel, charts: [ChartLink] = []) -> String {
        let notes = Notes()
        let unit = m.options.unit.rawValue
        let layout = m.layout
        var out: [String] = []
        out.append("# \(m.title)")
        out.append("")
        let runs = m.footer.runs.count
        out.append("From \(m.footer.records) record\(m.footer.records == 1 ? "" : "s") in \(runs) run\(runs == 1 ? "" : "s")"
                   + (m.footer.newestRecordTime.map { ", newest \($0)" } ?? "") + ". "
                   + "Throughput in \(unit) (\(m.options.unit == .megabytes ? "10^6 bytes/s" : "10^6 bits/s")) as mean ± half-width of the 95 % Student t interval over repetitions, "
                   + "with the median and the coefficient of variation (CV) beside it; latency in µs, likewise; n counts successful repetitions (– where nothing was measured). "
                   + "A row is one instance type in one region"
                   + (layout.placement ? " at one placement" : "") + (layout.setup ? " with one set of test knobs" : "")
                   + ": measurements that differ in any of these are never averaged together."
                   + (layout.commonSetup.map { " Every throughput figure: \(SetupText.text($0, test: "tcp_bw"))." } ?? "")
                   + (layout.runs ? " The runs column names the runs merged into a row (listed at the end)." : "")
                   + " Sources, prices and exchange rates are listed at the end.")
        out.append("")
        if !charts.isEmpty {
            out.append("Charts (at the end): " + charts.map { "[\($0.title)](\($0.file))" }.joined(separator: " · ") + ".")
            out.append("")
        }

        for section in m.providers {
            out.append("## \(section.displayName)")
            out.append("")
            let currencies = Set(section.rows.compactMap { $0.price?.money.currency })
            let common = currencies.count == 1 ? currencies.first : nil
            let perHeader = common.map { "\(unit) per \(NumberFormat.perHour($0))" } ?? "\(unit) per price"
            var header = ["instance type", "region"], align = ["---", "---"]
            if layout.placement { header.append("placement"); align.append("---") }
            if layout.setup { header.append("setup"); align.append("---") }
            if layout.runs { header.append("runs"); align.append("---") }
            header += ["n", "throughput (\(unit))", "median", "CV", "n", "latency (µs)", "median", "CV", "price per hour", perHeader]
            align += ["--:", "--:", "--:", "--:", "--:", "--:", "--:", "--:", "--:", "--:"]
            out.append(tableRow(header))
            out.append("|" + align.joined(separator: "|") + "|")
            for row in section.rows {
                let price: String
                if let p = row.price {
                    price = NumberFormat.money(p.money) + (p.status == "reconstructed" ? notes.ref(.reconstructed) : "")
                } else if let why = row.priceMissing {
                    price = "n/a: \(why)" + notes.ref(.noRegionalPrice)
                } else {
                    price = "n/a" + notes.ref(.noPrice)
                }
                let per: String
                if let v = row.throughputPerPrice, let p = row.price {
                    per = NumberFormat.sig3(v) + (common == nil ? " per \(NumberFormat.perHour(p.money.currency))" : "")
                } else {
                    per = "n/a" + (row.price == nil ? (row.priceMissing == nil ? notes.ref(.noPrice) : notes.ref(.noRegionalPrice))
                                                   : notes.ref(.missing))
                }
                var fields = [escape(row.key.cell.type)] + identityFields(row.key, layout)
                if layout.runs { fields.append(row.runs.joined(separator: " ")) }
                fields += figures(row.throughput, factor: m.options.unit.factor, notes)
                fields += figures(row.latency, factor: 1, notes) + [price, per]
                out.append(tableRow(fields))
            }
            out.append("")
        }

        out += BurstReport.markdown(m.bursts, unit: m.options.unit, linked: m.options.linksBurstTimelines)

        if !m.overlays.isEmpty {
            out.append("## Overlays versus the host network")
            out.append("")
            out.append("Change of the mean versus `host` on the same instances and knobs, ± the half-width of its 95 % interval: "
                       + "paired over rounds when the rounds line up, Welch's otherwise (the footnote on each figure says which).")
            out.append("")
            var header = ["provider", "instance type", "region"], align = ["---", "---", "---"]
            if layout.placement { header.append("placement"); align.append("---") }
            if layout.setup { header.append("setup"); align.append("---") }
            if layout.runs { header.append("runs"); align.append("---") }
            header += ["path", "n", "throughput (\(unit))", "median", "CV", "n", "latency (µs)", "median", "CV",
                       "throughput vs host", "latency vs host"]
            align += ["---", "--:", "--:", "--:", "--:", "--:", "--:", "--:", "--:", "--:", "--:"]
            out.append(tableRow(header))
            out.append("|" + align.joined(separator: "|") + "|")
            for o in m.overlays {
                var fields = [escape(o.providerName), escape(o.key.cell.type)] + identityFields(o.key, layout)
                if layout.runs { fields.append(o.runs.joined(separator: " ")) }
                fields.append(escape(o.path))
                fields += figures(o.throughput, factor: m.options.unit.factor, notes)
                fields += figures(o.latency, factor: 1, notes)
                fields += [penalty(o.throughputVsHost, o, notes), penalty(o.latencyVsHost, o, notes)]
                out.append(tableRow(fields))
            }
            out.append("")
        }

        out += DatapathReport.markdown(m.datapaths)
        out += TunnelDropReport.markdown(m.tunnelDrops)
        out += NICLimit.markdown(m.nicLimits)

        out.append(contentsOf: testSections(m, notes))
        out += GroupReport.markdown(m.groups, unit: m.options.unit)

        if !m.others.isEmpty {
            out.append("## Other tests")
            out.append("")
            out.append("Tests this report has no section for: each test's own figure, one row per cell.")
            out.append("")
            var header = ["provider", "instance type", "region"], align = ["---", "---", "---"]
            if layout.placement { header.append("placement"); align.append("---") }
            if layout.runs { header.append("runs"); align.append("---") }
            header += ["path", "test", "setup", "n", "value", "unit", "median", "CV"]
            align += ["---", "---", "---", "--:", "--:", "---", "--:", "--:"]
            out.append(tableRow(header))
            out.append("|" + align.joined(separator: "|") + "|")
            for o in m.others {
                let c = o.cell.key
                var fields = [escape(o.providerName), escape(c.type), escape(c.region ?? "no region")]
                if layout.placement { fields.append(escape(c.placement ?? "–")) }
                if layout.runs { fields.append(o.runs.joined(separator: " ")) }
                let rate = o.cell.unit == "MB/s"
                let f = rate ? m.options.unit.factor : 1
                fields += [escape(c.path), escape(c.test), escape(SetupText.text(c.setup, test: c.test)), n(o.cell),
                           cell(o.cell, factor: f, notes), rate ? unit : escape(o.cell.unit),
                           o.cell.summary.map { NumberFormat.sig3($0.median * f) } ?? "n/a",
                           cv(o.cell.summary)]
                out.append(tableRow(fields))
            }
            out.append("")
        }

        if !m.ranking.isEmpty {
            let cur = m.options.currency
            out.append("## Ranking: throughput per price, in \(cur)")
            out.append("")
            out.append("Every measured instance type on the host network, best value first. Each is priced in its own region. Prices in other currencies are converted at the exchange rate dated nearest the price's own date (listed below).")
            out.append("")
            var header = ["rank", "provider", "instance type", "region"], align = ["--:", "---", "---", "---"]
            if layout.placement { header.append("placement"); align.append("---") }
            if layout.setup { header.append("setup"); align.append("---") }
            header += ["throughput (\(unit))", "price per hour (\(cur))", "converted from", "\(unit) per \(NumberFormat.perHour(cur))"]
            align += ["--:", "--:", "---", "--:"]
            out.append(tableRow(header))
            out.append("|" + align.joined(separator: "|") + "|")
            for r in m.ranking {
                let rank = r.rank.map(String.init) ?? "–"
                let thr = r.throughput.map { NumberFormat.sig3($0.mean * m.options.unit.factor) } ?? "n/a" + notes.ref(.missing)
                var price = ""
                var from = ""
                if r.price == nil {
                    if let why = r.missingReason, why != "no price", why != "no throughput measured" {
                        price = "n/a: \(why)" + notes.ref(.noRegionalPrice)
                    } else {
                        price = "n/a" + notes.ref(.noPrice)
                    }
                }
                if let p = r.price {
                    if let c = r.converted {
                        price = r.conversion == nil ? NumberFormat.money(c) : NumberFormat.convertedMoney(c)
                        if let conv = r.conversion {
                            from = "\(NumberFormat.money(p.money)) × \(Money.plain(conv.rate)) (\(conv.date))"
                        }
                    } else {
                        price = "n/a" + notes.ref(.noRate)
                        from = NumberFormat.money(p.money)
                    }
                    if p.status == "reconstructed" { price += notes.ref(.reconstructed) }
                }
                let per = r.throughputPerPrice.map(NumberFormat.sig3) ?? "n/a"
                var fields = [rank, escape(r.providerName), escape(r.key.cell.type)] + identityFields(r.key, layout)
                fields += [thr, price, from, per]
                out.append(tableRow(fields))
            }
            out.append("")
        }

        if !charts.isEmpty {
            out.append("## Charts")
            out.append("")
            for c in charts { out.append("![\(c.title)](\(c.file))"); out.append("") }
        }

        out.append(contentsOf: footer(m))

        let used = Note.allCases.filter { notes.used.contains($0) }
        if !used.isEmpty {
            for n in used { out.append("[^\(n.rawValue)]: \(n.text)") }
            out.append("")
        }
        return out.joined(separator: "\n")
    }

    static func tableRow(_ fields: [String]) -> String { "| " + fields.joined(separator: " | ") + " |" }

    /// Region, and placement and knobs when the report has columns for them.
    static func identityFields(_ key: ReportModel.RowKey, _ layout: ReportModel.Layout) -> [String] {
        let c = key.cell
        var fields = [escape(c.region ?? "no region")]
        if layout.placement { fields.append(escape(c.placement ?? "–")) }
        if layout.setup { fields.append(escape(SetupText.text(c.setup, test: c.test))) }
        return fields
    }

    /// n, mean ± interval, median, CV.
    static func figures(_ c: CellStatistics?, factor: Double, _ notes: Notes) -> [String] {
        [n(c), cell(c, factor: factor, notes), c?.summary.map { NumberFormat.sig3($0.median * factor) } ?? "n/a", cv(c?.summary)]
    }

    /// Successful repetitions; `–` when the cell was never measured (0 when every attempt failed).
    static func n(_ c: CellStatistics?) -> String { c.map { String($0.summary?.n ?? 0) } ?? "–" }

    /// `2.0 %`; n/a for one value.
    static func cv(_ s: Summary?) -> String {
        guard let v = s?.coefficientOfVariation else { return "n/a" }
        return NumberFormat.sig2(v * 100) + " %"
    }

    /// `117 ± 3.2`, `108 ± n/a`, `552 (0 to 1,069)` when cut at zero, `n/a`; with `(2 failed)` when repetitions failed.
    static func cell(_ c: CellStatistics?, factor: Double, _ notes: Notes) -> String {
        var text: String
        if let s = c?.summary {
            if let ci = s.confidenceInterval, s.clampedAtFloor {
                text = NumberFormat.sig3(s.mean * factor) + " (\(NumberFormat.sig3(ci.low * factor)) to \(NumberFormat.sig3(ci.high * factor)))"
                    + notes.ref(.clamped)
            } else {
                text = NumberFormat.sig3(s.mean * factor) + " ± "
                    + (s.confidenceInterval.map { NumberFormat.sig2($0.halfWidth * factor) } ?? "n/a" + notes.ref(.single))
            }
        } else {
            text = "n/a" + notes.ref(.missing)
        }
        if let f = c?.failed, f > 0 { text += " (\(f) failed\(notes.ref(.failed)))" }
        return text
    }

    static func penalty(_ p: OverlayPenalty?, _ o: ReportModel.OverlayRow, _ notes: Notes) -> String {
        guard let p else { return "n/a" + notes.ref(o.hostMissing ? .noHost : .missing) }
        let method = notes.ref(p.method == .paired ? .paired : .welch)
        guard let i = p.interval else { return "\(NumberFormat.percent(p.percent)) ± n/a" + notes.ref(.single) + method }
        if p.clamped {
            return "\(NumberFormat.percent(p.percent)) (\(NumberFormat.percent(i.low)) to \(NumberFormat.percent(i.high)))"
                + notes.ref(.clamped) + method
        }
        return "\(NumberFormat.percent(p.percent)) ± \(NumberFormat.sig2(i.halfWidth))" + method
    }

    static func footer(_ m: ReportModel) -> [String] {
        let f = m.footer
        var out = ["## Sources", ""]
        out.append("- Records: \(f.records) (\(f.failed) failed, \(f.unusable) without a usable value"
                   + (f.duplicates > 0 ? ", \(f.duplicates) duplicate\(f.duplicates == 1 ? "" : "s") counted once" : "") + ")"
                   + (f.newestRecordTime.map { "; newest record \($0). Price ages are counted to this time, not today, so the same input always gives the same report." } ?? "."))
        out.append("- Runs:")
        for r in f.runs {
            let first = String(r.firstTime.prefix(10)), last = String(r.lastTime.prefix(10))
            out.append("  - \(m.layout.runs ? "\(r.label): " : "")`\(r.runID)`: \(r.records) record\(r.records == 1 ? "" : "s")"
                       + (r.failed > 0 ? " (\(r.failed) failed)" : "") + ", \(first == last ? first : "\(first) to \(last)")")
        }
        if !f.prices.isEmpty {
            out.append("- Prices per hour:")
            for p in f.prices {
                out.append("  - \(escape(p.providerName)) \(escape(p.label)): \(NumberFormat.money(p.price.money)), \(p.price.status), "
                           + "\(escape(p.price.source)), \(p.price.region.map { "for region \(escape($0)), " } ?? "")as of \(p.price.asOf)")
            }
        }
        if !f.conversions.isEmpty {
            out.append("- Exchange rates:")
            for c in f.conversions {
                out.append("  - 1 \(c.from) = \(Money.plain(c.rate)) \(c.to), table of \(c.date) (\(escape(c.source)))")
            }
        } else {
            out.append("- Exchange rates: none needed.")
        }
        let stale = f.prices.filter { $0.staleDays != nil }
        let warnings = f.missingPrices.map { "- ⚠ \(escape($0))" } + stale.map { p in
            "- ⚠ The price of \(escape(p.providerName)) \(escape(p.label)) is from \(p.price.asOf), \(p.staleDays!) days before the newest record: it may no longer hold."
        } + f.inputWarnings.map { "- ⚠ \(escape($0))" }
        if !warnings.isEmpty {
            out.append("")
            out.append("### Warnings")
            out.append("")
            out.append(contentsOf: warnings)
        }
        out.append("")
        return out
    }

    /// Keeps table cells intact: a `|` would end the cell.
    static func escape(_ s: String) -> String { s.replacingOccurrences(of: "|", with: "\\|") }
}
