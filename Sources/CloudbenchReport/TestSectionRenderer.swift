import CloudbenchCore

/// The report's section per test (`tcp_bw`, `tcp_lat`, `udp_bw`, `http`) in markdown: every cell
/// of the test with its headline figure and the figures read from `detail` (docs/report.md).
extension MarkdownRenderer {
    static func testSections(_ m: ReportModel, _ notes: Notes) -> [String] {
        var out: [String] = []
        for s in m.tests {
            // The host and overlay tables above already show a plain throughput or latency cell:
            // its section is shown when it adds something (knobs that differ, figures from `detail`).
            let figures = s.figures.filter { $0 != .retransmits }
            switch s.test {
            case "tcp_bw": if figures.isEmpty && Set(s.rows.map(\.cell.key.setup)).count <= 1 { continue }
            case "tcp_lat": if figures.isEmpty { continue }
            default: break
            }
            out += testSection(s, m, notes)
            out += PerFlowCap.markdown(s, m)
        }
        if !m.timelines.isEmpty {
            out.append("## Per-second throughput: drops and stalls")
            out.append("")
            out.append("`tcp_bw` cells where some interval of a repetition fell below half the median of its own series "
                       + "(a drop) or to about zero (a stall); the repetition with the deepest fall is named.")
            out.append("")
            out.append(tableRow(["provider", "instance type", "region", "path", "setup", "pair", "repetition", "event",
                                 "lowest interval", "median interval (\(m.options.unit.rawValue))"]))
            out.append("|---|---|---|---|---|---|--:|---|--:|--:|")
            for t in m.timelines {
                let c = t.timeline.cell
                let sorted = t.timeline.rates.sorted()
                let median = sorted.isEmpty ? 0 : sorted.count % 2 == 1 ? sorted[sorted.count / 2]
                    : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
                out.append(tableRow([escape(t.providerName), escape(c.type), escape(c.region ?? "no region"), escape(c.path),
                                     escape(SetupText.text(c.setup, test: c.test)), escape(t.timeline.pair),
                                     String(t.timeline.repetition), t.timeline.event.rawValue,
                                     NumberFormat.sig2(t.timeline.lowestShare * 100) + " % of the median",
                                     NumberFormat.sig3(median * m.options.unit.factor)]))
            }
            out.append("")
        }
        return out
    }

    static func testSection(_ s: ReportModel.TestSection, _ m: ReportModel, _ notes: Notes) -> [String] {
        let unit = m.options.unit.rawValue, factor = m.options.unit.factor
        let layout = m.layout
        var out: [String] = []
        var header = ["provider", "instance type", "region"], align = ["---", "---", "---"]
        if layout.placement { header.append("placement"); align.append("---") }
        if layout.runs { header.append("runs"); align.append("---") }
        header.append("path"); align.append("---")
        func add(_ h: String, _ a: String = "--:") { header.append(h); align.append(a) }
        let sizes = Set(s.rows.map(\.cell.key.setup.messageSize)).count > 1
        var intro: String
        switch s.test {
        case "tcp_bw":
            out.append("## TCP throughput (`tcp_bw`) per direction and stream count")
            intro = "Application goodput at the receiver, in \(unit), per direction and number of parallel streams."
            add("direction", "---"); add("streams")
            if sizes { add("messages") }
        case "tcp_lat":
            out.append("## TCP latency (`tcp_lat`)")
            intro = "One-way latency is the mean round trip halved, as qperf prints it; the RTT columns are whole round trips "
                + "(percentiles of every round trip of a repetition), never halved. Both in µs."
            if sizes { add("ping-pong") }
        case "udp_bw":
            out.append("## UDP throughput and loss (`udp_bw`)")
            intro = "Throughput received at the offered rate, in \(unit), and the share of datagrams lost."
            add("direction", "---"); add("offered (\(unit))")
        case "tcp_crr":
            out.append("## TCP connection rate (`tcp_crr`)")
            intro = "Transactions per second, each a new TCP connection: connect, request, response, close (netperf's TCP_CRR); "
                + "p50 and p99 are of the time of one transaction, in µs."
            if sizes { add("request and response") }
        case "udp_pps":
            out.append("## UDP packet rate (`udp_pps`)")
            intro = "Datagrams per second received at the offered packet rate (or the highest rate with loss under 1 % "
                + "where searched), and the share of datagrams lost."
            add("direction", "---"); add("payload"); add("offered (datagrams/s)")
        default:
            out.append("## HTTP object download (`http`)")
            intro = "Time to download the object, in ms: the median and the 95th percentile of the fetches of a repetition, "
                + "on a reused connection and on a new connection for every fetch (connect included)."
            add("object size")
        }
        intro += " Each figure is the mean over repetitions ± the half-width of its 95 % interval; n counts successful repetitions"
            + (s.test == "http" || s.test == "tcp_lat" ? " (a percentile is a repetition's own, then averaged)." : ".")
        if s.figures.contains(where: { [.cpuClientPerGB, .cpuServerPerGB].contains($0) }) {
            intro += " CPU is seconds of CPU time per GB moved; steal is the share of time the hypervisor gave to others."
        }
        out += ["", intro, ""]
        add("n")
        switch s.test {
        case "tcp_bw": add("throughput (\(unit))"); add("median"); add("CV")
        case "tcp_lat": add("one-way latency, RTT/2 (µs)"); add("median"); add("CV")
        case "udp_bw": add("received (\(unit))"); add("median"); add("CV")
        case "udp_pps": add("received (datagrams/s)"); add("median"); add("CV")
        case "tcp_crr": add("connections/s"); add("median"); add("CV")
        default: add(columnName(.httpReusedP50, unit: unit))
        }
        let figures = s.figures.filter { $0 != .httpReusedP50 }
        for f in figures {
            if s.test == "tcp_crr", f == .rttP50 || f == .rttP99 { add(f == .rttP50 ? "transaction p50 (µs)" : "transaction p99 (µs)"); continue }
            add(columnName(f, unit: unit))
        }
        if s.rateSweep { add("highest rate with loss < 1 % (\(unit))") }
        out.append(tableRow(header))
        out.append("|" + align.joined(separator: "|") + "|")
        for r in s.rows {
            let c = r.cell.key
            var fields = [escape(r.providerName), escape(c.type), escape(c.region ?? "no region")]
            if layout.placement { fields.append(escape(c.placement ?? "–")) }
            if layout.runs { fields.append(r.runs.joined(separator: " ")) }
            fields.append(escape(c.path))
            switch s.test {
            case "tcp_bw":
                fields += [SetupText.direction(c.setup.direction ?? "client_to_server"), String(c.setup.streams ?? 1)]
                if sizes { fields.append(c.setup.messageSize.map(SetupText.bytes) ?? "n/a") }
            case "tcp_lat":
                if sizes { fields.append(c.setup.messageSize.map(SetupText.bytes) ?? "n/a") }
            case "udp_bw":
                fields += [SetupText.direction(c.setup.direction ?? "client_to_server"),
                           c.setup.udpRate.map { NumberFormat.sig3($0 / 1e6 * factor) } ?? (c.setup.udpRateSearch ? "searched" : "n/a")]
            case "tcp_crr":
                if sizes { fields.append(c.setup.messageSize.map(SetupText.bytes) ?? "n/a") }
            case "udp_pps":
                fields += [SetupText.direction(c.setup.direction ?? "client_to_server"), c.setup.messageSize.map(SetupText.bytes) ?? "n/a",
                           c.setup.udpRate.map(NumberFormat.sig3) ?? (c.setup.udpRateSearch ? "searched" : "n/a")]
            default:
                fields.append(c.setup.httpSize.map(SetupText.bytes) ?? "n/a")
            }
            fields.append(n(r.cell))
            if s.test == "http" {
                // The headline figure is the median on a reused connection.
                fields.append(cell(r.cell, factor: 1, notes))
            } else {
                let f = r.cell.unit == "MB/s" ? factor : 1
                fields += [cell(r.cell, factor: f, notes), r.cell.summary.map { NumberFormat.sig3($0.median * f) } ?? "n/a",
                           cv(r.cell.summary)]
            }
            for f in figures {
                fields.append(summary(r.figures[f], factor: f == .udpSent || f == .udpSearchedRate ? factor : 1, notes))
            }
            if s.rateSweep {
                fields.append(r.highestRateUnder1PercentLoss.map { NumberFormat.sig3($0 / 1e6 * factor) } ?? "n/a (none under 1 %)")
            }
            out.append(tableRow(fields))
        }
        out.append("")
        return out
    }

    static func columnName(_ f: DetailFigures.Figure, unit: String) -> String {
        switch f {
        case .rttP50: return "RTT p50 (µs)"
        case .rttP99: return "RTT p99 (µs)"
        case .rttP999: return "RTT p99.9 (µs)"
        case .retransmits: return "retransmits"
        case .cpuClientPerGB: return "client CPU (s/GB)"
        case .cpuServerPerGB: return "server CPU (s/GB)"
        case .udpSearchedRate: return "searched rate, loss < 1 % (\(unit))"
        case .stealClient: return "client steal (%)"
        case .stealServer: return "server steal (%)"
        case .udpLoss: return "loss (%)"
        case .udpJitter: return "jitter (µs)"
        case .udpSent: return "sent (\(unit))"
        case .httpReusedP50: return "reused: median (ms)"
        case .httpReusedP95: return "reused: p95 (ms)"
        case .httpNewP50: return "new connection: median (ms)"
        case .httpNewP95: return "new connection: p95 (ms)"
        }
    }

    /// `12.3 ± 0.40`, `5.00 ± n/a`, `0.50 (0 to 1.3)` when cut at zero; `n/a` when no record carries it.
    static func summary(_ s: Summary?, factor: Double, _ notes: Notes) -> String {
        guard let s else { return "n/a" }
        if let ci = s.confidenceInterval, s.clampedAtFloor {
            return NumberFormat.sig3(s.mean * factor) + " (\(NumberFormat.sig3(ci.low * factor)) to \(NumberFormat.sig3(ci.high * factor)))"
                + notes.ref(.clamped)
        }
        return NumberFormat.sig3(s.mean * factor) + " ± "
            + (s.confidenceInterval.map { NumberFormat.sig2($0.halfWidth * factor) } ?? "n/a" + notes.ref(.single))
    }
}
