/// Which datagram sequence numbers (1, 2, 3 …) arrived: each counts once, so duplicates cannot
/// hide loss, and one that arrives after a later one is counted as reordered.
///
/// A bit per sequence number, grown as they arrive, up to `capacity` (2^30: 128 MiB, over a
/// billion datagrams); numbers beyond it count as received without the duplicate check.
struct SequenceTracker {
    static let capacity: UInt64 = 1 << 30
    private var seen: [UInt64] = []
    private var highest: UInt64 = 0
    private(set) var unique = 0
    private(set) var duplicates = 0
    private(set) var reordered = 0

    enum Arrival: Equatable { case new, duplicate, invalid }

    @discardableResult
    mutating func note(_ seq: UInt64) -> Arrival {
        guard seq > 0 else { return .invalid }
        if seq <= SequenceTracker.capacity {
            let word = Int((seq - 1) >> 6), bit = UInt64(1) << ((seq - 1) & 63)
            if word >= seen.count { seen += [UInt64](repeating: 0, count: max(word + 1 - seen.count, seen.count)) }
            if seen[word] & bit != 0 { duplicates += 1; return .duplicate }
            seen[word] |= bit
        }
        unique += 1
        if seq < highest { reordered += 1 } else { highest = seq }
        return .new
    }
}
