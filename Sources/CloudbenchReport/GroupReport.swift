import CloudbenchCore

/// One group's steps (`detail.group` records), and where its aggregate stops rising.
public struct GroupSection: Sendable {
    public var name: String
    public var shape: String
    public var provider: String
    public var type: String
    public var region: String?
    /// The host every flow starts or ends at, and a through group's middle (as the records name them).
    public var hub: String?
    public var middle: String?
    /// The middle is a balancer of the user's own (`detail.group.external`): a step is a number of
    /// flows sent to it, and it picked their backends (`GroupStepRow.landed`).
    public var external = false
    /// What a step counts (`detail.group.step_of`): the spokes (`clients`, `servers`, `backends`),
    /// a through group's `clients`, or `flows`.
    public var stepOf: String = "backends"
    /// A through group's clients, when several send at once (its largest step's).
    public var clients: [String] = []
    /// A through group's backends (its largest step's), as the records name them.
    public var backends: [String] = []
    public var steps: [GroupStepRow]
    /// A through group's reference: its largest step straight to the backends, without the middle.
    public var direct: GroupStepRow?
    public var ceiling: Ceiling?

    /// The step from which more flows add nothing (within the intervals), at `value` MB/s.
    public struct Ceiling: Sendable {
        public var fromStep: Int
        public var value: Double
        /// The host whose link it is, as a sentence's subject ("the middle's (10.0.0.7)"), nil when the
        /// records cannot tell which of two hosts it is.
        public var host: String?
        public var why: String
        /// Several hosts' links (a through group's clients): "links cap".
        public var plural = false
    }
}

public struct GroupStepRow: Sendable {
    public var step: Int
    /// The aggregate, MB/s, over the successful repetitions.
    public var aggregate: Summary?
    public var failed: Int
    /// Each flow's mean rate, MB/s, in the order of the group's hosts.
    public var flows: [Double]
    public var fairness: Double?
    /// Through a balancer of the user's own: how many flows it put on each backend, the mean over
    /// the successful repetitions, in the order of the group's backends.
    public var landed: [Double] = []
    /// Each host's busy share of its cores over the step (`detail.group.cpu`), the mean over the
    /// successful repetitions, in the order first seen.
    public var cpu: [(host: String, busyPercent: Double)] = []
}

/// The report's section on groups (`groups:` in the inventory): a table per group of the aggregate
/// and each flow per step, Jain's fairness, and the step where the aggregate stops rising, with the
/// host whose link caps it.
public enum GroupReport {
    /// Whether a record is a group's (it has `detail.group`): such records have no place in the
    /// tables of pairs.
    public static func isGroupRecord(_ r: ResultRecord) -> Bool { r.test == "tcp_bw" && r.detailView?["group"] != nil }

    public static func sections(records: [ResultRecord]) -> [GroupSection] {
        var order: [String] = []
        var byGroup: [String: [ResultRecord]] = [:]
        for r in records where isGroupRecord(r) {
            if byGroup[r.pair] == nil { order.append(r.pair) }
            byGroup[r.pair, default: []].append(r)
        }
        return order.map { section(name: $0, records: byGroup[$0]!) }
    }

    static func section(name: String, records: [ResultRecord]) -> GroupSection {
        let described = records.first { $0.status == .ok } ?? records[0]
        let g = described.detailView?["group"]
        var section = GroupSection(name: name, shape: g?["shape"]?.string ?? "group", provider: described.provider, type: described.type,
                                   region: described.region, hub: g?["hub"]?.string, middle: g?["middle"]?.string, steps: [])
        section.external = g?["external"]?.value == .bool(true)
        let spokes = section.external ? "flows" : HostGroup.Shape(rawValue: section.shape)?.spokesKey ?? "backends"
        section.stepOf = g?["step_of"]?.string.flatMap { ["clients", "servers", "backends", "flows"].contains($0) ? $0 : nil } ?? spokes
        func names(_ r: ResultRecord, _ key: String) -> [String] {
            var out: [String] = []
            _ = r.detailView?["group"]?[key]?.forEachElement { c in
                guard out.count < 64, let name = c.string else { return false }
                out.append(name)
                return true
            }
            return out
        }
        for r in records where r.status == .ok {
            let c = names(r, "clients"), b = section.shape == "through" ? names(r, "backends") : []
            if c.count > section.clients.count { section.clients = c }
            if b.count > section.backends.count { section.backends = b }
        }
        var bySteps: [Int: [ResultRecord]] = [:]
        var direct: [ResultRecord] = []
        for r in records {
            guard let s = r.detailView?["group"]?["step"]?.double, s.isFinite, s >= 1, s <= 1e6 else { continue }
            if r.detailView?["group"]?["direct"]?.value == .bool(true) {
                direct.append(r)
            } else {
                bySteps[Int(s), default: []].append(r)
            }
        }
        section.steps = bySteps.keys.sorted().map { row(step: $0, bySteps[$0]!) }
        if let first = direct.first, let s = first.detailView?["group"]?["step"]?.double { section.direct = row(step: Int(s), direct) }
        section.ceiling = ceiling(section)
        return section
    }

    static func row(step: Int, _ records: [ResultRecord]) -> GroupStepRow {
        let ok = records.filter { $0.status == .ok && $0.value.map { $0.isFinite && $0 >= 0 } == true }
        var flowSums: [Double] = [], flowCounts: [Int] = [], fairness: [Double] = []
        var landedSums: [Double] = [], landedCounts: [Int] = []
        /// Adds each number of a list to the sums at its index (at most 1000, each in `range`).
        func add(_ list: JSONView?, scale: Double, range: ClosedRange<Double>, to sums: inout [Double], _ counts: inout [Int]) {
            var i = 0
            _ = list?.forEachElement { f in
                guard i < 1000, let v = f.double, v.isFinite, range.contains(v) else { return false }
                if i == sums.count { sums.append(0); counts.append(0) }
                sums[i] += v * scale
                counts[i] += 1
                i += 1
                return true
            }
        }
        var cpuHosts: [String] = [], cpuSums: [String: (Double, Int)] = [:]
        for r in ok {
            _ = r.detailView?["group"]?["cpu"]?.forEachElement { h in
                guard cpuHosts.count < 200, let host = h["host"]?.string, let busy = h["busy_percent"]?.double, (0...100.5).contains(busy) else { return false }
                if cpuSums[host] == nil { cpuHosts.append(host) }
                let (sum, n) = cpuSums[host] ?? (0, 0)
                cpuSums[host] = (sum + busy, n + 1)
                return true
            }
            add(r.detailView?["group"]?["flows"], scale: 1e-6, range: 0...1e15, to: &flowSums, &flowCounts)
            add(r.detailView?["group"]?["landed"], scale: 1, range: 0...1000, to: &landedSums, &landedCounts)
            if let f = r.detailView?["group"]?["fairness"]?.double, f.isFinite, f > 0, f <= 1 { fairness.append(f) }
        }
        var row = GroupStepRow(step: step, aggregate: Summary(ok.compactMap(\.value), floor: 0),
                            failed: records.filter { $0.status == .failed }.count,
                            flows: zip(flowSums, flowCounts).map { $0 / Double($1) },
                            fairness: fairness.isEmpty ? nil : fairness.reduce(0, +) / Double(fairness.count),
                            landed: zip(landedSums, landedCounts).map { $0 / Double($1) })
        row.cpu = cpuHosts.map { h in (h, cpuSums[h]!.0 / Double(cpuSums[h]!.1)) }
        return row
    }

    /// The half-width of a step's interval, or 3 % of its mean when it has none (one repetition).
    static func noise(_ s: Summary) -> Double {
        max(s.confidenceInterval.map { ($0.high - $0.low) / 2 } ?? 0, 0.03 * s.mean)
    }

    /// The first step from which no later step rises above it by more than the intervals (or 3 %).
    static func ceiling(_ g: GroupSection) -> GroupSection.Ceiling? {
        let measured = g.steps.compactMap { s in s.aggregate.map { (s.step, $0) } }
        guard measured.count >= 2 else { return nil }
        var plateau: Int?
        for p in 0..<(measured.count - 1) {
            let base = measured[p].1
            if measured[(p + 1)...].allSatisfy({ $0.1.mean <= base.mean + max(noise(base), noise($0.1)) }) { plateau = p; break }
        }
        guard let p = plateau else { return nil }
        let (step, summary) = measured[p]
        switch g.shape {
        case "fan_in":
            return .init(fromStep: step, value: summary.mean, host: "the server's (\(g.hub ?? "?"))",
                         why: "every flow ends there")
        case "fan_out":
            return .init(fromStep: step, value: summary.mean, host: "the client's (\(g.hub ?? "?"))",
                         why: "every flow starts there")
        default:
            // Through a middle: the middle's link, or the client's, which every flow crosses too; the
            // direct reference (the same backends without the middle) tells them apart.
            // Against the same number of backends through the middle (through a balancer, the same
            // number of flows, or else its largest step).
            let same = measured.first(where: { $0.0 == g.direct?.step })?.1 ?? (g.external ? measured.last?.1 : nil)
            guard let direct = g.direct?.aggregate, let top = same else {
                return .init(fromStep: step, value: summary.mean, host: nil,
                             why: "every flow crosses both the client's and the middle's links, and no direct reference was measured beside it")
            }
            let middle = g.external ? "balancer" : "middle"
            let directFigure = NumberFormat.sig3(direct.mean) + " MB/s"
            if direct.mean > top.mean + max(noise(direct), noise(top)) {
                return .init(fromStep: step, value: summary.mean, host: "the \(middle)'s (\(g.middle ?? "?"))",
                             why: "the same backends without the \(middle) reach " + directFigure)
            }
            // Without the middle the same hosts reach no more: another link every flow shares. Which
            // one depends on what the steps added.
            switch g.stepOf {
            case "clients":
                // More clients stopped helping: not theirs, then, but the backends' together.
                let backends = g.backends.isEmpty ? "the backends'" : "the backends' (\(g.backends.joined(separator: ", ")))"
                return .init(fromStep: step, value: summary.mean, host: backends,
                             why: "more clients add nothing, and without the \(middle) they reach no more (\(directFigure))", plural: true)
            case "flows":
                // The backends serve every step and the reference alike: they and the clients cannot be told apart.
                return .init(fromStep: step, value: summary.mean, host: nil,
                             why: "more flows add nothing, and the same backends without the \(middle) reach no more (\(directFigure)): "
                                + "the clients' links or the backends'")
            default:
                let clients = g.clients.count > 1 ? "the clients' (\(g.clients.joined(separator: ", ")))" : "the client's (\(g.hub ?? "?"))"
                return .init(fromStep: step, value: summary.mean, host: clients,
                             why: "the same backends without the \(middle) reach no more (\(directFigure))", plural: g.clients.count > 1)
            }
        }
    }

    /// The section (none without groups), each group a table and a line on its ceiling.
    public static func markdown(_ groups: [GroupSection], unit: ReportOptions.ThroughputUnit) -> [String] {
        guard !groups.isEmpty else { return [] }
        let u = unit.rawValue, f = unit.factor
        func esc(_ s: String) -> String { s.replacingOccurrences(of: "|", with: "\\|") }
        func figure(_ s: Summary?) -> String {
            guard let s else { return "n/a" }
            let half = s.confidenceInterval.map { ($0.high - $0.low) / 2 }
            return NumberFormat.sig3(s.mean * f) + (half.map { " ± " + NumberFormat.sig2($0 * f) } ?? "")
        }
        var out = ["## Groups", "",
                   "Several flows at once (the inventory's `groups:`): every flow of a step starts together after a barrier and "
                   + "is measured over the same window. The aggregate is their sum, mean ± half-width of the 95 % interval over repetitions; "
                   + "per flow is each flow's mean, in the order of the group's hosts; fairness is Jain's index of the flows "
                   + "(1: equal shares, 1/n: one flow takes all).", ""]
        for g in groups {
            let spokes = g.stepOf
            let title: String
            switch g.shape {
            case "fan_in": title = "fan-in" + (g.hub.map { " into \($0)" } ?? "")
            case "fan_out": title = "fan-out" + (g.hub.map { " from \($0)" } ?? "")
            default: title = "through " + (g.middle ?? "a middle") + (g.external ? " (a balancer of your own)" : "")
                + (g.clients.count > 1 ? ", from \(g.clients.joined(separator: ", "))" : g.hub.map { ", from \($0)" } ?? "")
            }
            out.append("### \(esc(g.name)): \(esc(title)) (\(esc(g.provider)) \(esc(g.type)), \(esc(g.region ?? "no region")))")
            out.append("")
            out.append("| \(spokes) | n | aggregate (\(u)) | per flow (\(u)) | fairness |")
            out.append("|--:|--:|--:|---|--:|")
            var rows = g.steps.map { ("\($0.step)", $0) }
            if let d = g.direct { rows.append(("\(d.step), direct (no \(g.external ? "balancer" : "middle"))" + (g.external ? ", one to each backend" : ""), d)) }
            for (label, r) in rows {
                let n = "\(r.aggregate?.n ?? 0)" + (r.failed > 0 ? " (\(r.failed) failed)" : "")
                out.append("| \(label) | \(n) | \(figure(r.aggregate)) | "
                           + (r.flows.isEmpty ? "n/a" : r.flows.map { NumberFormat.sig3($0 * f) }.joined(separator: " · "))
                           + " | \(r.fairness.map { String(format: "%.2f", $0) } ?? "n/a") |")
            }
            out.append("")
            if g.external, let top = g.steps.last(where: { !$0.landed.isEmpty }) {
                out.append("The balancer put the \(top.step) flows of the largest step on its backends as "
                           + top.landed.map { $0 == $0.rounded() ? "\(Int($0))" : NumberFormat.sig3($0) }.joined(separator: " · ") + " (in the group's order"
                           + (top.aggregate.map { $0.n > 1 ? ", mean of \($0.n) repetitions" : "" } ?? "") + ").")
                out.append("")
            }
            if let top = g.steps.last(where: { !$0.cpu.isEmpty }) {
                out.append("CPU busy at the largest step (\(top.step) \(top.step == 1 ? String(spokes.dropLast()) : spokes), share of each host's cores): "
                           + top.cpu.map { "\(esc($0.host)) \(String(format: "%.0f", $0.busyPercent)) %" }.joined(separator: ", ") + ".")
                out.append("")
            }
            if let c = g.ceiling {
                let subject = c.host.map { "\($0) link" + (c.plural ? "s" : "") } ?? "A link the flows share"
                out.append("\(subject.prefix(1).uppercased() + subject.dropFirst()) \(c.plural ? "cap" : "caps") the group at " + NumberFormat.sig3(c.value * f)
                           + " \(u) from \(c.fromStep) \(c.fromStep == 1 ? String(spokes.dropLast()) : spokes) on: \(c.why).")
            } else if g.steps.count >= 2 {
                out.append("The aggregate did not level off within the steps measured: no ceiling.")
            }
            out.append("")
        }
        return out
    }
}
