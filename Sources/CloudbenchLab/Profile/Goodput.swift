import Foundation

/// An application-level throughput (bytes per second received by the application).
///
/// Written in profiles as `24.8 MB/s`, `590 KB/s`, `1 GB/s` or `200 Mbit/s`, all decimal
/// (1 MB/s = 10^6 bytes/s), the units of the reference study.
public struct Goodput: Hashable, Sendable, CustomStringConvertible {
    public let bytesPerSecond: Double

    public init(bytesPerSecond: Double) { self.bytesPerSecond = bytesPerSecond }

    private static let units: [(suffix: String, factor: Double)] = [
        ("GB/s", 1e9), ("MB/s", 1e6), ("KB/s", 1e3), ("kB/s", 1e3), ("B/s", 1),
        ("Gbit/s", 1e9 / 8), ("Mbit/s", 1e6 / 8), ("Kbit/s", 1e3 / 8), ("kbit/s", 1e3 / 8),
    ]

    /// Goodputs a lab link can be shaped to: 1 B/s to 100 GB/s (beyond, `tc`'s rate in bits
    /// and the burst arithmetic would overflow long before any link could carry it).
    public static let range: ClosedRange<Double> = 1...100e9

    /// Parses `"<number> <unit>"` within `range`; returns nil for anything else.
    public init?(parsing text: String) {
        let t = text.trimmingCharacters(in: .whitespaces)
        for (suffix, factor) in Self.units where t.hasSuffix(suffix) {
            let number = t.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)
            guard let value = Double(number), Self.range.contains(value * factor) else { return nil }
            self.bytesPerSecond = value * factor
            return
        }
        return nil
    }

    /// The bytes per second that a `tbf` must pass on the wire for this TCP goodput at MTU 1500:
    /// each 1448-byte segment (timestamps on) costs a 1514-byte Ethernet frame.
    public var wireBytesPerSecond: Int {
        Int((bytesPerSecond * 1514 / 1448).rounded())
    }

    /// In the largest decimal byte unit that keeps the number at or above 1, e.g. `24.8 MB/s`.
    public var description: String {
        let (value, unit): (Double, String) =
            bytesPerSecond >= 1e9 ? (bytesPerSecond / 1e9, "GB/s")
            : bytesPerSecond >= 1e6 ? (bytesPerSecond / 1e6, "MB/s")
            : bytesPerSecond >= 1e3 ? (bytesPerSecond / 1e3, "KB/s")
            : (bytesPerSecond, "B/s")
        var s = String(format: "%.3f", value)
        while s.hasSuffix("0") { s.removeLast() }
        if s.hasSuffix(".") { s.removeLast() }
        return "\(s) \(unit)"
    }
}
