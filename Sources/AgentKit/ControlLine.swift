/// Splits `word key=value key=value` lines of the control protocol.
public enum ControlLine {
    public static func fields<S: Sequence>(_ words: S) -> [String: String] where S.Element == Substring {
        var out: [String: String] = [:]
        for w in words {
            guard let eq = w.firstIndex(of: "=") else { continue }
            out[String(w[..<eq])] = String(w[w.index(after: eq)...])
        }
        return out
    }

    /// `RESULT k=v ...` → fields; nil when the line is something else.
    public static func result(_ line: String?) -> [String: String]? {
        guard let line else { return nil }
        let words = line.split(separator: " ")
        guard words.first == "RESULT" else { return nil }
        return fields(words.dropFirst())
    }

    /// Largest byte or datagram count a peer may report: 2^48 (256 TiB), so that adding up to
    /// `AgentLimits.intervals` of them, or a few totals, cannot overflow an `Int`.
    public static let maximumCount = 1 << 48

    /// A count a peer sent (bytes, datagrams, segments): a whole number from 0 to `maximumCount`.
    public static func count(_ text: String?) -> Int? {
        guard let text, let n = Int(text), n >= 0, n <= maximumCount else { return nil }
        return n
    }

    /// A real figure a peer sent (seconds, microseconds): finite and not negative.
    public static func nonNegative(_ text: String?) -> Double? {
        guard let text, let d = Double(text), d.isFinite, d >= 0 else { return nil }
        return d
    }

    public static func encode(_ tag: String, _ fields: [(String, String)]) -> String {
        ([tag] + fields.map { "\($0.0)=\($0.1)" }).joined(separator: " ") + "\n"
    }
}
