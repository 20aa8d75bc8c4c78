import CloudbenchCore

/// A per-flow cap, found at report time in a `tcp_bw` stream sweep: on the same instances, path,
/// direction and message size, N streams together reach at least 1.25 × what one stream reaches
/// and the two 95 % intervals do not overlap. Many clouds cap a single flow (AWS documents
/// 5 Gbit/s per flow outside a placement group), so one stream under-reports the instance.
/// Records are never rewritten to say it; the report says it.
public struct PerFlowCap: Hashable, Sendable {
    /// The 1-stream cell and the N-stream cell with the highest mean among those that qualify.
    public var single: CellStatistics
    public var multi: CellStatistics
    public var providerName: String

    /// N streams must reach this multiple of one stream's mean.
    public static let factor = 1.25

    /// The caps in a `tcp_bw` section, in its row order.
    public static func find(in section: ReportModel.TestSection) -> [PerFlowCap] {
        guard section.test == "tcp_bw" else { return [] }
        var out: [PerFlowCap] = []
        var groups: [CellIdentity: [ReportModel.TestRow]] = [:]
        var order: [CellIdentity] = []
        for row in section.rows {
            var key = row.cell.key
            key.setup.streams = nil
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(row)
        }
        for key in order {
            let rows = groups[key]!
            guard let one = rows.first(where: { $0.cell.key.setup.streams == 1 }), let s1 = one.cell.summary,
                  let i1 = s1.confidenceInterval else { continue }
            let capped = rows.filter { row in
                guard (row.cell.key.setup.streams ?? 1) > 1, let s = row.cell.summary, let i = s.confidenceInterval else { return false }
                return s.mean >= factor * s1.mean && i.low > i1.high
            }
            guard let best = capped.max(by: { ($0.cell.summary?.mean ?? 0) < ($1.cell.summary?.mean ?? 0) }) else { continue }
            out.append(PerFlowCap(single: one.cell, multi: best.cell, providerName: one.providerName))
        }
        return out
    }

    /// `one flow reaches 50.0 MB/s; 8 flows reach 120 MB/s`, in the report's unit.
    public func sentence(unit: String, factor f: Double) -> String {
        let n = multi.key.setup.streams ?? 1
        let one = (single.summary?.mean ?? 0) * f, many = (multi.summary?.mean ?? 0) * f
        return "one flow reaches \(NumberFormat.sig3(one)) \(unit); \(n) flows reach \(NumberFormat.sig3(many)) \(unit)"
    }

    /// The lines under the `tcp_bw` table: one per cap found, none when there is none.
    static func markdown(_ section: ReportModel.TestSection, _ m: ReportModel) -> [String] {
        let caps = find(in: section)
        guard !caps.isEmpty else { return [] }
        var out = ["Per-flow caps: where more streams reach at least \(NumberFormat.sig3(factor))× one stream's throughput "
                   + "and their 95 % intervals do not overlap, the instance limits each flow, so one stream under-reports it.", ""]
        for c in caps {
            let k = c.single.key
            var what = [k.region ?? "no region", k.path]
            if let d = k.setup.direction { what.append(SetupText.direction(d)) }
            out.append("- \(c.providerName) \(k.type) (\(what.joined(separator: ", "))): "
                       + c.sentence(unit: m.options.unit.rawValue, factor: m.options.unit.factor) + ".")
        }
        out.append("")
        return out
    }
}
