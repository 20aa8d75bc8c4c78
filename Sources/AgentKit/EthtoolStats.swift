/// The text `ethtool -S DEV` and `ethtool -i DEV` print, read into values.
///
/// `-S` prints `NIC statistics:` and then one `     name: value` line per counter; which names
/// a driver prints is its own business (ENA's `*_allowance_exceeded`, mlx5's `rx_discards_phy`,
/// virtio_net's per-queue `rx_queue_0_drops`, hv_netvsc's `rx_no_memory`). A cell keeps the ones
/// that say why traffic was shaped or lost: see `keeps`.
public enum EthtoolStats {
    /// At most this many lines are read, and this many counters kept: the `HOST` line carries them.
    public static let maximumLines = 20_000
    public static let maximumKept = 24
    /// A counter's name: at most this long, letters, digits and `_ . - [ ]` only.
    public static let maximumNameLength = 64

    /// Every counter of `ethtool -S` output, in order; nil when the text is not in that shape
    /// (no `NIC statistics:` header, or not one `name: count` line after it).
    public static func parse(_ text: String) -> [(name: String, value: UInt64)]? {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: true).prefix(maximumLines).makeIterator()
        guard let header = lines.next(), header.trimmingSpaces == "NIC statistics:" else { return nil }
        var out: [(name: String, value: UInt64)] = []
        while let line = lines.next() {
            guard let colon = line.lastIndex(of: ":") else { return nil }
            let name = line[..<colon].trimmingSpaces
            guard !name.isEmpty, let value = UInt64(line[line.index(after: colon)...].trimmingSpaces) else { return nil }
            out.append((String(name), value))
        }
        return out.isEmpty ? nil : out
    }

    /// `driver: ena` of `ethtool -i`; nil when there is no such line.
    public static func driver(_ text: String) -> String? {
        for line in text.split(separator: "\n").prefix(64) where line.hasPrefix("driver:") {
            let name = line.dropFirst("driver:".count).trimmingSpaces
            return validName(name) ? String(name) : nil
        }
        return nil
    }

    /// The counters a cell records: every `*_allowance_exceeded` (the ones that name a cloud's
    /// limit) first, then device-wide drops, discards and errors; per-queue and per-CPU copies
    /// are left out (their device-wide sum says the same in one line). At most `maximumKept`.
    public static func kept(_ all: [(name: String, value: UInt64)]) -> [(name: String, value: UInt64)] {
        let usable = all.filter { validName($0.name) }
        let allowance = usable.filter { isAllowance($0.name) }
        let losses = usable.filter { !isAllowance($0.name) && isLoss($0.name) && !isPerQueue($0.name) }
        return Array((allowance + losses).prefix(maximumKept))
    }

    public static func isAllowance(_ name: String) -> Bool { name.hasSuffix("_allowance_exceeded") }

    static func isLoss(_ name: String) -> Bool {
        let n = name.lowercased()
        return ["drop", "discard", "err", "missed", "no_buffer", "out_of_buffer", "no_memory"].contains { n.contains($0) }
    }

    /// `rx_queue_0_drops`, `queue_1_tx_errors`, `rx3_dropped`, `cpu0_rx_dropped`, `tx-2.drops`, `ch_5_errors`.
    static func isPerQueue(_ name: String) -> Bool {
        let n = Array(name.lowercased().utf8)
        if name.lowercased().contains("queue") { return true }
        // A digit right after a letter run that begins the name or follows `_`: rx3_, cpu0_, ch5_, txq2.
        for i in n.indices where (48...57).contains(n[i]) && i > 0 {
            let before = n[i - 1]
            if (97...122).contains(before) || before == UInt8(ascii: "_") || before == UInt8(ascii: "-") { return true }
        }
        return false
    }

    public static func validName<S: StringProtocol>(_ name: S) -> Bool {
        !name.isEmpty && name.utf8.count <= maximumNameLength && name.utf8.allSatisfy { c in
            (48...57).contains(c) || (65...90).contains(c) || (97...122).contains(c)
                || c == UInt8(ascii: "_") || c == UInt8(ascii: ".") || c == UInt8(ascii: "-")
                || c == UInt8(ascii: "[") || c == UInt8(ascii: "]")
        }
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces, tabs, carriage returns and newlines.
    var trimmingSpaces: Substring {
        let blank: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" }
        let s = Substring(self)
        guard let first = s.firstIndex(where: { !blank($0) }), let last = s.lastIndex(where: { !blank($0) }) else { return "" }
        return s[first...last]
    }
}
