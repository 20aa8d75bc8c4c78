import CloudbenchCore

/// One pair's path whose user-space tunnel dropped datagrams (`detail.tunnel`), both sides summed.
public struct TunnelDropRow: Hashable, Sendable {
    public var pair: String
    public var path: String
    /// Records of this pair and path that carry tunnel counts, and those with a drop.
    public var records: Int
    public var recordsWithDrops: Int
    public var badTag: Int
    public var replay: Int
    public var wrongSource: Int

    public var dropped: Int { badTag + replay + wrongSource }
}

/// The report's line per path whose user-space tunnel (the `udp` path) dropped datagrams over
/// its cells: from another address, failing their authenticator, or replayed. Each is a packet
/// the tunnel refused to forward: someone else sent to its port, or the network altered it.
public enum TunnelDropReport {
    static let kinds = ["dropped_bad_tag", "dropped_replay", "dropped_wrong_source"]

    /// Every pair and path with a drop in some `ok` record, by pair and path.
    public static func rows(records: [ResultRecord]) -> [TunnelDropRow] {
        var rows: [String: TunnelDropRow] = [:]
        records.withUnsafeBufferPointer { rs in
            for i in rs.indices where rs[i].status == .ok {
                guard let tunnel = rs[i].detailView?["tunnel"] else { continue }
                var counts = [0, 0, 0]
                for side in ["client", "server"] {
                    guard let s = tunnel[side] else { continue }
                    for (k, name) in kinds.enumerated() {
                        // Counts are whole and not negative; anything else is not counted.
                        if let v = s[name]?.double, v.isFinite, v >= 0, v < 1e15 { counts[k] += Int(v) }
                    }
                }
                let key = "\(rs[i].pair)\u{0}\(rs[i].path)"
                var row = rows[key] ?? TunnelDropRow(pair: rs[i].pair, path: rs[i].path, records: 0, recordsWithDrops: 0,
                                                     badTag: 0, replay: 0, wrongSource: 0)
                row.records += 1
                if counts.contains(where: { $0 > 0 }) { row.recordsWithDrops += 1 }
                row.badTag += counts[0]
                row.replay += counts[1]
                row.wrongSource += counts[2]
                rows[key] = row
            }
        }
        return rows.values.filter { $0.dropped > 0 }.sorted { ($0.pair, $0.path) < ($1.pair, $1.path) }
    }

    /// One line per row (none without rows), then a blank line.
    public static func markdown(_ rows: [TunnelDropRow]) -> [String] {
        guard !rows.isEmpty else { return [] }
        func esc(_ s: String) -> String { s.replacingOccurrences(of: "|", with: "\\|") }
        var out = rows.map { r in
            "- ⚠ \(esc(r.pair)) \(esc(r.path)): the user-space tunnel dropped \(r.dropped) datagram\(r.dropped == 1 ? "" : "s") "
                + "in \(r.recordsWithDrops) of \(r.records) record\(r.records == 1 ? "" : "s") (bad tag \(r.badTag), "
                + "replayed \(r.replay), wrong source \(r.wrongSource)): datagrams that were not its peer's reached its port, "
                + "or the network altered them; they were not forwarded."
        }
        out.append("")
        return out
    }
}
