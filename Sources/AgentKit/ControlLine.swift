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

    public static func encode(_ tag: String, _ fields: [(String, String)]) -> String {
        ([tag] + fields.map { "\($0.0)=\($0.1)" }).joined(separator: " ") + "\n"
    }
}
