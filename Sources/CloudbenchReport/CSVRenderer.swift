import Foundation
import CloudbenchCore

/// The report's rows as CSV, one per instance type, region, placement, knobs and path: `tcp_bw`
/// and `tcp_lat` host rows first (in ranking order), then overlays, then one row per `tcp_crr`,
/// `udp_bw`, `udp_pps` and `http` cell (the `test` column says which). A rate test's value is in
/// the throughput columns in its own unit (`throughput_unit`): `udp_bw` in the report's unit,
/// `udp_pps` in datagrams per second (`pps`, and `udp_offered` too), `tcp_crr` in connections per
/// second (`conn/s`, its transaction p50/p99 in the `rtt_*` columns). Missing values are `n/a`
/// (read as missing by most tools). The figures read from `detail` (RTT percentiles, loss, HTTP
/// times, CPU, steal) follow, each as mean and 95 % interval.
public enum CSVRenderer {
    public static let header = [
        "provider", "instance_type", "region", "placement", "path", "direction", "streams", "message_size", "runs", "pairs",
        "throughput_n", "throughput", "throughput_unit", "throughput_ci95_low", "throughput_ci95_high",
        "throughput_median", "throughput_min", "throughput_max", "throughput_stddev", "throughput_cv", "throughput_failed",
        "latency_n", "latency_us", "latency_ci95_low", "latency_ci95_high",
        "latency_median", "latency_min", "latency_max", "latency_stddev", "latency_cv", "latency_failed",
        "price_per_hour", "price_currency", "price_status", "price_source", "price_as_of", "price_region", "price_missing",
        "price_converted", "report_currency", "exchange_rate", "exchange_rate_date", "throughput_per_price",
        "throughput_vs_host_pct", "throughput_vs_host_ci95_low", "throughput_vs_host_ci95_high", "throughput_vs_host_method",
        "latency_vs_host_pct", "latency_vs_host_ci95_low", "latency_vs_host_ci95_high", "latency_vs_host_method",
        "test", "udp_offered", "udp_highest_rate_loss_under_1pct", "http_object_bytes",
    ] + DetailFigures.Figure.allCases.flatMap { [$0.rawValue, "\($0.rawValue)_ci95_low", "\($0.rawValue)_ci95_high"] }

    /// The tests with a row per cell (the rest are in the host and overlay rows).
    static let cellRowTests: Set<String> = ["tcp_crr", "udp_bw", "udp_pps", "http"]

    public static func render(_ m: ReportModel) -> String {
        let f = m.options.unit.factor
        var lines = [header.joined(separator: ",")]
        let hostRows = Dictionary(uniqueKeysWithValues: m.providers.flatMap(\.rows).map { ($0.key, $0) })
        let figures = Dictionary(uniqueKeysWithValues: m.tests.flatMap(\.rows).map { ($0.cell.key, $0.figures) })
        for r in m.ranking {
            guard let row = hostRows[r.key] else { continue }
            var fields = identity(r.key) + [row.runs.joined(separator: " "), pairs(row.throughput, row.latency)]
            fields += cell(row.throughput, factor: f, unit: m.options.unit.rawValue)
            fields += cell(row.latency, factor: 1, unit: nil)
            if let p = row.price {
                fields += [Money.plain(p.money.amount), p.money.currency, p.status, p.source, p.asOf, p.region ?? "n/a", "n/a"]
            } else {
                fields += Array(repeating: "n/a", count: 6) + [row.priceMissing ?? "no price"]
            }
            fields += [r.converted.map { Money.plain($0.amount) } ?? "n/a", m.options.currency,
                       r.conversion.map { Money.plain($0.rate) } ?? (r.converted != nil ? "1" : "n/a"),
                       r.conversion?.date ?? "n/a", number(r.throughputPerPrice)]
            fields += Array(repeating: "n/a", count: 8)
            fields += tail(row.key, figures, m)
            lines.append(fields.map(CSVTable.escape).joined(separator: ","))
        }
        for o in m.overlays {
            var fields = identity(o.key) + [o.runs.joined(separator: " "), pairs(o.throughput, o.latency)]
            fields += cell(o.throughput, factor: f, unit: m.options.unit.rawValue)
            fields += cell(o.latency, factor: 1, unit: nil)
            fields += Array(repeating: "n/a", count: 12)
            fields += penalty(o.throughputVsHost) + penalty(o.latencyVsHost)
            fields += tail(o.key, figures, m)
            lines.append(fields.map(CSVTable.escape).joined(separator: ","))
        }
        // One row per cell of the other tests: a rate (received for udp_bw and udp_pps, completed
        // connections for tcp_crr) in the throughput columns, http's times in its own columns after.
        for section in m.tests where cellRowTests.contains(section.test) {
            for r in section.rows {
                let c = r.cell.key
                var fields = [c.provider, c.type, c.region ?? "n/a", c.placement ?? "n/a", c.path, c.setup.direction ?? "n/a",
                              c.setup.streams.map(String.init) ?? "n/a", c.setup.messageSize.map(String.init) ?? "n/a",
                              r.runs.joined(separator: " "), r.cell.pairs.joined(separator: " ")]
                switch section.test {
                case "udp_bw":
                    fields += cell(r.cell, factor: f, unit: m.options.unit.rawValue)
                case "http":
                    fields += [String(r.cell.summary?.n ?? 0)] + Array(repeating: "n/a", count: 9) + [String(r.cell.failed)]
                default:
                    fields += cell(r.cell, factor: 1, unit: MeasurementUnit.canonical(for: section.test) ?? "n/a")
                }
                fields += Array(repeating: "n/a", count: 10)
                fields += Array(repeating: "n/a", count: 12 + 8)
                let offered = section.test == "udp_bw" ? c.setup.udpRate.map { number($0 / 1e6 * f) }
                    : section.test == "udp_pps" ? c.setup.udpRate.map { number($0) } : nil
                fields += [section.test, offered ?? "n/a",
                           number(r.highestRateUnder1PercentLoss.map { $0 / 1e6 * f }), c.setup.httpSize.map(String.init) ?? "n/a"]
                fields += figureFields(r.figures)
                lines.append(fields.map(CSVTable.escape).joined(separator: ","))
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    public static let groupHeader = [
        "group", "shape", "provider", "instance_type", "region", "middle", "step_of", "step", "direct",
        "throughput_n", "throughput", "throughput_unit", "throughput_ci95_low", "throughput_ci95_high",
        "throughput_median", "throughput_min", "throughput_max", "throughput_stddev", "throughput_failed",
        "fairness", "per_flow", "landed_per_backend", "ceiling",
    ]

    /// The groups' steps as CSV (`report --csv X.csv` writes it to `X-groups.csv`), one row per
    /// step and direct reference: the aggregate in the report's unit, each flow's mean (space
    /// separated, in flow order), through a balancer how many flows each backend took, and
    /// `ceiling` on the step the aggregate levels off from (the host whose link it is, as the
    /// markdown names it). Nil without groups.
    public static func groups(_ m: ReportModel) -> String? {
        guard !m.groups.isEmpty else { return nil }
        let f = m.options.unit.factor
        var lines = [groupHeader.joined(separator: ",")]
        for g in m.groups {
            let rows = g.steps.map { ($0, false) } + (g.direct.map { [($0, true)] } ?? [])
            for (r, direct) in rows {
                let s = r.aggregate
                var fields = [g.name, g.shape, g.provider, g.type, g.region ?? "n/a", g.middle ?? "n/a", g.stepOf, String(r.step), direct ? "yes" : "no",
                              String(s?.n ?? 0), number(s.map { $0.mean * f }), m.options.unit.rawValue,
                              number(s?.confidenceInterval.map { $0.low * f }), number(s?.confidenceInterval.map { $0.high * f }),
                              number(s.map { $0.median * f }), number(s.map { $0.min * f }), number(s.map { $0.max * f }),
                              number(s?.stddev.map { $0 * f }), String(r.failed), number(r.fairness)]
                fields.append(r.flows.isEmpty ? "n/a" : r.flows.map { number($0 * f) }.joined(separator: " "))
                fields.append(r.landed.isEmpty ? "n/a" : r.landed.map { number($0) }.joined(separator: " "))
                let ceiling = !direct && g.ceiling?.fromStep == r.step
                fields.append(ceiling ? (g.ceiling?.host ?? "a link the flows share") : "n/a")
                lines.append(fields.map(CSVTable.escape).joined(separator: ","))
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Where `groups` goes beside a CSV written to `path`: `x.csv` → `x-groups.csv`.
    public static func groupsPath(besides path: String) -> String {
        (path.hasSuffix(".csv") ? String(path.dropLast(4)) : path) + "-groups.csv"
    }

    /// `test` … `http_object_bytes` and the `detail` figures of a throughput/latency row (the
    /// latency cell's RTT percentiles, the throughput cell's CPU and retransmits).
    static func tail(_ key: ReportModel.RowKey, _ figures: [CellIdentity: DetailFigures.Figures], _ m: ReportModel) -> [String] {
        let tests = [key.throughput?.test, key.latency?.test].compactMap { $0 }.joined(separator: " ")
        var merged = key.latency.flatMap { figures[$0] } ?? [:]
        merged.merge(key.throughput.flatMap { figures[$0] } ?? [:]) { _, throughput in throughput }
        return [tests, "n/a", "n/a", "n/a"] + figureFields(merged)
    }

    static func figureFields(_ f: DetailFigures.Figures) -> [String] {
        DetailFigures.Figure.allCases.flatMap { k -> [String] in
            let s = f[k]
            return [number(s?.mean), number(s?.confidenceInterval?.low), number(s?.confidenceInterval?.high)]
        }
    }

    /// provider, type, region, placement, path and the throughput knobs.
    static func identity(_ key: ReportModel.RowKey) -> [String] {
        let c = key.cell
        let s = key.throughput?.setup
        return [c.provider, c.type, c.region ?? "n/a", c.placement ?? "n/a", c.path, s?.direction ?? "n/a",
                s?.streams.map(String.init) ?? "n/a", s?.messageSize.map(String.init) ?? "n/a"]
    }

    static func pairs(_ a: CellStatistics?, _ b: CellStatistics?) -> String {
        Set((a?.pairs ?? []) + (b?.pairs ?? [])).sorted().joined(separator: " ")
    }

    static func cell(_ c: CellStatistics?, factor: Double, unit: String?) -> [String] {
        let s = c?.summary
        var out = [String(s?.n ?? 0), number(s.map { $0.mean * factor })]
        if let unit { out.append(unit) }
        out += [number(s?.confidenceInterval.map { $0.low * factor }), number(s?.confidenceInterval.map { $0.high * factor })]
        out += [number(s.map { $0.median * factor }), number(s.map { $0.min * factor }), number(s.map { $0.max * factor }),
                number(s?.stddev.map { $0 * factor }), number(s?.coefficientOfVariation)]
        out.append(String(c?.failed ?? 0))
        return out
    }

    static func penalty(_ p: OverlayPenalty?) -> [String] {
        [number(p?.percent), number(p?.interval?.low), number(p?.interval?.high), p?.method.rawValue ?? "n/a"]
    }

    /// Six significant digits: enough for any measurement, stable across platforms.
    static func number(_ x: Double?) -> String {
        guard let x, x.isFinite else { return "n/a" }
        let s = String(format: "%.6g", x)
        return s == "-0" ? "0" : s
    }
}
