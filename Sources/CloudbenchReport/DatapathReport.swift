import CloudbenchCore

/// One pair's path with the datapaths its records saw (`detail.datapath`), and how often each.
public struct DatapathRow: Hashable, Sendable {
    public var providerName: String
    public var type: String
    public var pair: String
    public var path: String
    /// `kind (product) on device` → records that saw it, in the order first seen.
    public var seen: [Seen]

    public struct Seen: Hashable, Sendable {
        public var label: String
        public var records: Int
    }

    /// Repetitions of one path went through different datapaths: a fallback mid-run.
    public var mixed: Bool { seen.count > 1 }
}

/// The report's datapath section: what carried each path's packets, from every record's
/// `detail.datapath`, and a warning where repetitions of one path saw different datapaths (a
/// Weave fast datapath falling back to its sleeve changes the figure by about 3×).
public enum DatapathReport {
    /// `vxlan (Flannel) on flannel.1, VNI 1, UDP 8472`.
    static func label(_ d: JSONValue) -> String? {
        guard let kind = d["kind"]?.string else { return nil }
        var s = kind
        if let p = d["product"]?.string { s += " (\(p))" }
        var extra: [String] = []
        if let dev = d["device"]?.string { extra.append("on \(dev)") }
        if let vni = d["vni"]?.double { extra.append("VNI \(Int(vni))") }
        if let port = d["port"]?.double { extra.append("UDP \(Int(port))") }
        return extra.isEmpty ? s : s + " " + extra.joined(separator: ", ")
    }

    /// Every pair and path with a recorded datapath, by provider, type, pair, path.
    public static func rows(records: [ResultRecord], catalog: Catalog) -> [DatapathRow] {
        var rows: [String: DatapathRow] = [:]
        var order: [String] = []
        // Fields read through the buffer: binding each record would copy (retain) all its fields.
        records.withUnsafeBufferPointer { rs in
            for i in rs.indices where rs[i].status == .ok {
                guard let d = rs[i].detail?["datapath"], let label = label(d) else { continue }
                let r = rs[i]
                let key = "\(r.provider)\u{0}\(r.type)\u{0}\(r.pair)\u{0}\(r.path)"
                if rows[key] == nil {
                    rows[key] = DatapathRow(providerName: catalog.displayName(of: r.provider), type: r.type, pair: r.pair, path: r.path, seen: [])
                    order.append(key)
                }
                if let i = rows[key]!.seen.firstIndex(where: { $0.label == label }) { rows[key]!.seen[i].records += 1 }
                else { rows[key]!.seen.append(.init(label: label, records: 1)) }
            }
        }
        return order.compactMap { rows[$0] }.sorted {
            ($0.providerName, $0.type, $0.pair, $0.path) < ($1.providerName, $1.type, $1.pair, $1.path)
        }
    }

    /// The section's lines (none without rows).
    public static func markdown(_ rows: [DatapathRow]) -> [String] {
        guard !rows.isEmpty else { return [] }
        func esc(_ s: String) -> String { s.replacingOccurrences(of: "|", with: "\\|") }
        var out = ["## Datapaths", "",
                   "What carried each path's packets off the client, as the route and the device showed it at each path's set-up.", "",
                   "| provider | instance type | pair | path | datapath |", "|---|---|---|---|---|"]
        for r in rows {
            let seen = r.seen.map { r.mixed ? "\($0.label) ×\($0.records)" : $0.label }.joined(separator: "; ")
            out.append("| \(esc(r.providerName)) | \(esc(r.type)) | \(esc(r.pair)) | \(esc(r.path)) | \(r.mixed ? "⚠ " : "")\(esc(seen)) |")
        }
        out.append("")
        for r in rows where r.mixed {
            out.append("- ⚠ \(esc(r.pair)) \(esc(r.path)): repetitions saw different datapaths (\(r.seen.map(\.label).joined(separator: " / "))): "
                       + "a fallback mid-run; this path's figures mix them.")
        }
        if rows.contains(where: \.mixed) { out.append("") }
        return out
    }
}
