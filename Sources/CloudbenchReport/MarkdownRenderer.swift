import CloudbenchCore

/// Renders a `ReportModel` as GitHub-flavoured markdown. Missing values read `n/a` with a
/// footnote saying why; nothing missing is ever printed as 0.
public enum MarkdownRenderer {
    /// Footnotes, in the order they are listed at the end.
    enum Note: String, CaseIterable {
        case single, missing, failed, noPrice = "no-price", noHost = "no-host", noRate = "no-rate", reconstructed

        var text: String {
            switch self {
            case .single: return "One successful repetition: there is no confidence interval (shown as n/a, not 0)."
            case .missing: return "No successful measurement in this cell."
            case .failed: return "Failed repetitions are counted here and never averaged in."
            case .noPrice: return "No price: none recorded with the results, given in the inventory or known to the provider catalog."
            case .noHost: return "No `host` measurement on the same instances to compare with."
            case .noRate: return "No exchange rate for this currency in providers/fx.yaml, so it cannot be ranked."
            case .reconstructed: return "Reconstructed price: worked out from indirect evidence, not quoted from a price list of the day."
            }
        }
    }

    final class Notes {
        var used: Set<Note> = []
        func ref(_ n: Note) -> String { used.insert(n); return "[^\(n.rawValue)]" }
    }

    public static func render(_ m: ReportModel) -> String {
        let notes = Notes()
        let unit = m.options.unit.rawValue
        var out: [String] = []
        out.append("# \(m.title)")
        out.append("")
        let runs = m.footer.runs.count
        out.append("From \(m.footer.records) record\(m.footer.records == 1 ? "" : "s") in \(runs) run\(runs == 1 ? "" : "s")"
                   + (m.footer.newestRecordTime.map { ", newest \($0)" } ?? "") + ". "
                   + "Throughput in \(unit) (\(m.options.unit == .megabytes ? "10^6 bytes/s" : "10^6 bits/s")) as mean ± half-width of the 95 % Student t interval over repetitions; "
                   + "latency in µs, likewise. Sources, prices and exchange rates are listed at the end.")
        out.append("")

        for section in m.providers {
            out.append("## \(section.displayName)")
            out.append("")
            let currencies = Set(section.rows.compactMap { $0.price?.money.currency })
            let common = currencies.count == 1 ? currencies.first : nil
            let perHeader = common.map { "\(unit) per \(NumberFormat.perHour($0))" } ?? "\(unit) per price"
            out.append("| instance type | n | throughput (\(unit)) | latency (µs) | price per hour | \(perHeader) |")
            out.append("|---|--:|--:|--:|--:|--:|")
            for row in section.rows {
                let n = row.throughput?.summary?.n ?? 0
                let price: String
                if let p = row.price {
                    price = NumberFormat.money(p.money) + (p.status == "reconstructed" ? notes.ref(.reconstructed) : "")
                } else {
                    price = "n/a" + notes.ref(.noPrice)
                }
                let per: String
                if let v = row.throughputPerPrice, let p = row.price {
                    per = NumberFormat.sig3(v) + (common == nil ? " per \(NumberFormat.perHour(p.money.currency))" : "")
                } else {
                    per = "n/a" + (row.price == nil ? notes.ref(.noPrice) : notes.ref(.missing))
                }
                out.append("| \(escape(row.label)) | \(n) | \(cell(row.throughput, factor: m.options.unit.factor, notes)) | "
                           + "\(cell(row.latency, factor: 1, notes)) | \(price) | \(per) |")
            }
            out.append("")
        }

        out += BurstReport.markdown(m.bursts, unit: m.options.unit, linked: m.options.linksBurstTimelines)

        if !m.overlays.isEmpty {
            out.append("## Overlays versus the host network")
            out.append("")
            out.append("Change of the mean versus `host` on the same instance type and placement, ± the half-width of Welch's 95 % interval.")
            out.append("")
            out.append("| provider | instance type | path | n | throughput (\(unit)) | latency (µs) | throughput vs host | latency vs host |")
            out.append("|---|---|---|--:|--:|--:|--:|--:|")
            for o in m.overlays {
                out.append("| \(escape(o.providerName)) | \(escape(o.label)) | \(escape(o.path)) | \(o.throughput?.summary?.n ?? 0) | "
                           + "\(cell(o.throughput, factor: m.options.unit.factor, notes)) | \(cell(o.latency, factor: 1, notes)) | "
                           + "\(penalty(o.throughputVsHost, o, notes)) | \(penalty(o.latencyVsHost, o, notes)) |")
            }
            out.append("")
        }

        if !m.ranking.isEmpty {
            let cur = m.options.currency
            out.append("## Ranking: throughput per price, in \(cur)")
            out.append("")
            out.append("Every measured instance type on the host network, best value first. Prices in other currencies are converted at the exchange rate dated nearest the price's own date (listed below).")
            out.append("")
            out.append("| rank | provider | instance type | throughput (\(unit)) | price per hour (\(cur)) | converted from | \(unit) per \(NumberFormat.perHour(cur)) |")
            out.append("|--:|---|---|--:|--:|---|--:|")
            for r in m.ranking {
                let rank = r.rank.map(String.init) ?? "–"
                let thr = r.throughput.map { NumberFormat.sig3($0.mean * m.options.unit.factor) } ?? "n/a" + notes.ref(.missing)
                var price = ""
                var from = ""
                if r.price == nil { price = "n/a" + notes.ref(.noPrice) }
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
                out.append("| \(rank) | \(escape(r.providerName)) | \(escape(r.label)) | \(thr) | \(price) | \(from) | \(per) |")
            }
            out.append("")
        }

        out.append(contentsOf: footer(m))

        let used = Note.allCases.filter { notes.used.contains($0) }
        if !used.isEmpty {
            for n in used { out.append("[^\(n.rawValue)]: \(n.text)") }
            out.append("")
        }
        return out.joined(separator: "\n")
    }

    /// `117 ± 3.2`, `108 ± n/a`, `n/a`; with `(2 failed)` when repetitions failed.
    static func cell(_ c: CellStatistics?, factor: Double, _ notes: Notes) -> String {
        var text: String
        if let s = c?.summary {
            text = NumberFormat.sig3(s.mean * factor) + " ± "
                + (s.confidenceInterval.map { NumberFormat.sig2($0.halfWidth * factor) } ?? "n/a" + notes.ref(.single))
        } else {
            text = "n/a" + notes.ref(.missing)
        }
        if let f = c?.failed, f > 0 { text += " (\(f) failed\(notes.ref(.failed)))" }
        return text
    }

    static func penalty(_ p: OverlayPenalty?, _ o: ReportModel.OverlayRow, _ notes: Notes) -> String {
        guard let p else { return "n/a" + notes.ref(o.hostMissing ? .noHost : .missing) }
        let ci = p.interval.map { NumberFormat.sig2($0.halfWidth) } ?? "n/a" + notes.ref(.single)
        return "\(NumberFormat.percent(p.percent)) ± \(ci)"
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
            out.append("  - `\(r.runID)`: \(r.records) record\(r.records == 1 ? "" : "s")"
                       + (r.failed > 0 ? " (\(r.failed) failed)" : "") + ", \(first == last ? first : "\(first) to \(last)")")
        }
        if !f.prices.isEmpty {
            out.append("- Prices per hour:")
            for p in f.prices {
                out.append("  - \(escape(p.providerName)) \(escape(p.label)): \(NumberFormat.money(p.price.money)), \(p.price.status), "
                           + "\(escape(p.price.source)), as of \(p.price.asOf)")
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
        let warnings = stale.map { p in
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
