/// A length of time written like `10s`, `500ms`, `2m` or `1m30s`.
public struct DurationValue: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var milliseconds: Int

    public init(milliseconds: Int) { self.milliseconds = milliseconds }
    /// Rounds to whole milliseconds; saturates at ±`limit` (NaN becomes 0), so no input traps.
    public init(seconds: Double) {
        let ms = (seconds * 1000).rounded()
        let cap = Double(DurationValue.limit.milliseconds)
        self.milliseconds = ms.isNaN ? 0 : Int(Swift.min(Swift.max(ms, -cap), cap))
    }

    /// The longest duration there is (about 31.7 years): a parsed duration beyond it saturates
    /// here, so a range check names the problem instead of an integer overflow trapping.
    public static let limit = DurationValue(milliseconds: 1_000_000_000_000)

    public var seconds: Double { Double(milliseconds) / 1000 }

    /// Parses `500ms`, `10s`, `1.5s`, `2m`, `1h`, `1m30s`; nil for anything else (a bare number
    /// is refused: `10` could mean seconds or minutes). A huge value saturates at `limit`:
    /// callers check their own range and say it.
    public static func parse(_ text: String) -> DurationValue? {
        var total = 0.0
        var rest = Substring(text.trimmingCharacters(in: .whitespaces))
        guard !rest.isEmpty, rest.utf8.count <= 64 else { return nil }
        while !rest.isEmpty {
            let number = rest.prefix { ($0.isASCII && $0.isNumber) || $0 == "." }
            guard !number.isEmpty, number.filter({ $0 == "." }).count <= 1, let v = Double(number) else { return nil }
            rest = rest.dropFirst(number.count)
            let unit = rest.prefix { $0.isLetter }
            rest = rest.dropFirst(unit.count)
            switch unit {
            case "ms": total += v / 1000
            case "s": total += v
            case "m", "min": total += v * 60
            case "h": total += v * 3600
            default: return nil
            }
        }
        return DurationValue(seconds: total)
    }

    /// Shortest exact spelling: `500ms`, `10s`, `1.5s`, `2m`.
    public var description: String {
        if milliseconds % 60_000 == 0 && milliseconds >= 60_000 { return "\(milliseconds / 60_000)m" }
        if milliseconds % 1000 == 0 { return "\(milliseconds / 1000)s" }
        if milliseconds < 1000 { return "\(milliseconds)ms" }
        return "\(seconds)s"
    }

    public static func < (a: DurationValue, b: DurationValue) -> Bool { a.milliseconds < b.milliseconds }
}
