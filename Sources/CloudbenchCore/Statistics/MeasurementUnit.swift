/// The units a record's value may be in, and conversion to the one unit statistics use per
/// test: MB/s (10^6 bytes/s) for bandwidth tests, µs for latency, datagrams per second (`pps`)
/// for the packet-rate test.
public enum MeasurementUnit {
    /// Multipliers into MB/s.
    static let rate: [String: Double] = [
        "MB/s": 1, "bytes/s": 1e-6, "B/s": 1e-6, "KB/s": 1e-3, "kB/s": 1e-3, "GB/s": 1e3,
        "bit/s": 1.25e-7, "Kbit/s": 1.25e-4, "Mbit/s": 0.125, "Gbit/s": 125,
    ]
    /// Multipliers into µs.
    static let time: [String: Double] = ["us": 1, "µs": 1, "ns": 1e-3, "ms": 1e3, "s": 1e6]
    /// Multipliers into packets per second.
    static let packets: [String: Double] = ["pps": 1, "packets/s": 1, "kpps": 1e3, "Mpps": 1e6]
    /// Multipliers into connections per second (`tcp_crr`).
    static let connections: [String: Double] = ["conn/s": 1, "connections/s": 1]

    /// The unit statistics use for `test`, or nil for a test whose unit is kept as recorded.
    public static func canonical(for test: String) -> String? {
        switch test {
        case "tcp_bw", "udp_bw": return "MB/s"
        case "tcp_lat", "udp_lat": return "us"
        case "udp_pps": return "pps"
        case "tcp_crr": return "conn/s"
        default: return nil
        }
    }

    /// `value` in `unit` converted to the canonical unit of `test`: (value, unit), or nil when
    /// the unit is not one for that kind of test.
    public static func normalise(_ value: Double, unit: String?, test: String) -> (Double, String)? {
        guard let canonical = canonical(for: test) else { return (value, unit ?? "") }
        let table = canonical == "MB/s" ? rate : canonical == "pps" ? packets : canonical == "conn/s" ? connections : time
        guard let f = table[unit ?? canonical] else { return nil }
        return (value * f, canonical)
    }

    /// Whether `unit` is one a record of `test` may use: one of its kind for a test with a
    /// canonical unit, any rate or time unit otherwise (e.g. `http` in `ms`).
    public static func isKnown(_ unit: String, test: String) -> Bool {
        // Asked for every record loaded: table lookups, not the sorted list `known(for:)` builds.
        switch canonical(for: test) {
        case "MB/s": return rate[unit] != nil
        case "us": return time[unit] != nil
        case "pps": return packets[unit] != nil
        case "conn/s": return connections[unit] != nil
        default: return rate[unit] != nil || time[unit] != nil
        }
    }

    /// The units a record of `test` may use, sorted.
    public static func known(for test: String) -> [String] {
        switch canonical(for: test) {
        case "MB/s": return rate.keys.sorted()
        case "us": return time.keys.sorted()
        case "pps": return packets.keys.sorted()
        case "conn/s": return connections.keys.sorted()
        default: return (Array(rate.keys) + Array(time.keys)).sorted()
        }
    }
}
