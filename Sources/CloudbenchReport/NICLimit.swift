import CloudbenchCore

/// A cloud limit a NIC said it enforced during a cell: an `*_allowance_exceeded` counter of
/// `detail.nic.client` or `detail.nic.server` (ENA's `ethtool -S`) that grew over the measured
/// window. A user who sees 600 MB/s learns from it whether the bandwidth allowance, the packet
/// rate or connection tracking stopped the cell, and so whether a bigger type helps.
public struct NICLimit: Hashable, Sendable {
    public var providerName: String
    public var type: String
    public var pair: String
    public var path: String
    public var test: String
    /// `client` or `server`.
    public var side: String
    /// The counter, e.g. `pps_allowance_exceeded`.
    public var counter: String
    /// Packets the counter grew by, summed over the cell's ok records.
    public var packets: Int
    /// Records where it grew, of the cell's ok records that carry this side's NIC counters.
    public var records: Int
    public var of: Int

    /// ENA's allowance counters, in the order a sentence names them, with what each one limits
    /// and what happened to a packet over it (AWS: "queued or dropped" for the bandwidth and
    /// packet-rate allowances, dropped for the other two).
    static let allowances: [(counter: String, limit: String, fate: String)] = [
        ("bw_out_allowance_exceeded", "the outbound bandwidth allowance", "queued or dropped"),
        ("bw_in_allowance_exceeded", "the inbound bandwidth allowance", "queued or dropped"),
        ("pps_allowance_exceeded", "the packet-rate allowance", "queued or dropped"),
        ("conntrack_allowance_exceeded", "the connection-tracking allowance", "dropped"),
        ("linklocal_allowance_exceeded", "the link-local packet-rate allowance", "dropped"),
    ]

    /// `shaped by the outbound bandwidth allowance: 1,204 packets queued or dropped on the server`.
    public var sentence: String {
        let a = Self.allowances.first { $0.counter == counter }
        let packetWord = packets == 1 ? "packet" : "packets"
        return "shaped by \(a?.limit ?? counter): \(NumberFormat.grouped(packets)) \(packetWord) \(a?.fate ?? "over it") on the \(side)"
    }

    /// Every limit hit, by provider, type, pair, path, test, then the allowance order and side.
    /// Nothing for records without NIC counters or whose counters did not grow.
    public static func find(records: [ResultRecord], catalog: Catalog) -> [NICLimit] {
        var found: [String: NICLimit] = [:]
        var carried: [String: Int] = [:]
        records.withUnsafeBufferPointer { rs in
            for i in rs.indices where rs[i].status == .ok {
                guard let nic = rs[i].detailView?["nic"] else { continue }
                let r = rs[i]
                for side in ["client", "server"] {
                    guard let deltas = nic[side]?["deltas"] else { continue }
                    let cell = "\(r.provider)\u{0}\(r.type)\u{0}\(r.pair)\u{0}\(r.path)\u{0}\(r.test)\u{0}\(side)"
                    carried[cell, default: 0] += 1
                    for a in allowances {
                        guard let v = deltas[a.counter]?.double, v.isFinite, v >= 1, v < 1e15 else { continue }
                        let key = cell + "\u{0}" + a.counter
                        var limit = found[key] ?? NICLimit(providerName: catalog.displayName(of: r.provider), type: r.type, pair: r.pair,
                                                           path: r.path, test: r.test, side: side, counter: a.counter,
                                                           packets: 0, records: 0, of: 0)
                        limit.packets += Int(v)
                        limit.records += 1
                        found[key] = limit
                    }
                }
            }
        }
        func rank(_ l: NICLimit) -> Int { allowances.firstIndex { $0.counter == l.counter } ?? allowances.count }
        return found.map { key, limit -> NICLimit in
            var l = limit
            l.of = carried[String(key[..<key.lastIndex(of: "\u{0}")!])] ?? l.records
            return l
        }.sorted { a, b in
            // Swift compares tuples of at most six elements: the cell first, then the counter and side.
            let cellA = (a.providerName, a.type, a.pair, a.path, a.test), cellB = (b.providerName, b.type, b.pair, b.path, b.test)
            return cellA != cellB ? cellA < cellB : (rank(a), a.side) < (rank(b), b.side)
        }
    }

    /// The report's lines: one per limit hit, none when no NIC counted one.
    public static func markdown(_ limits: [NICLimit]) -> [String] {
        guard !limits.isEmpty else { return [] }
        var out = ["## Limits the NICs reported", "",
                   "Counters the instance's NIC keeps (`ethtool -S`, `*_allowance_exceeded`) grew during these cells: "
                   + "the cloud held them to an allowance, so a figure here is that allowance, not the path's capacity.", ""]
        for l in limits {
            let share = l.records == l.of ? "every repetition" : "\(l.records) of \(l.of) repetitions"
            out.append("- \(l.providerName) \(l.type) (\(l.pair), \(l.path), \(l.test)): \(l.sentence) (\(share)).")
        }
        out.append("")
        return out
    }
}
