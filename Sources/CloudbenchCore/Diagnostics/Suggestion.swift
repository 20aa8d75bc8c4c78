/// "Did you mean" suggestions by edit distance.
public enum Suggestion {
    /// The closest of `candidates` to `word`, if it is close enough to be a likely typo.
    public static func closest(to word: String, in candidates: some Sequence<String>) -> String? {
        let w = word.lowercased()
        // A longer or shorter spelling of one candidate ('tcp_latency' for 'tcp_lat') is a likely slip too.
        let prefixed = candidates.filter { c in
            let c = c.lowercased()
            return c.count >= 3 && w.count >= 3 && (w.hasPrefix(c) || c.hasPrefix(w))
        }
        if prefixed.count == 1 { return prefixed[0] }
        var best: (String, Int)?
        for c in candidates {
            let d = distance(w, c.lowercased())
            if best == nil || d < best!.1 || (d == best!.1 && c < best!.0) { best = (c, d) }
        }
        guard let (name, d) = best else { return nil }
        let limit = max(1, min(3, (word.count + 1) / 3))
        return d <= limit ? name : nil
    }

    /// `; did you mean 'x'?` or the empty string.
    public static func hint(for word: String, in candidates: some Sequence<String>) -> String {
        closest(to: word, in: candidates).map { "; did you mean '\($0)'?" } ?? ""
    }

    /// `; did you mean 'x'?` when there is a close candidate, else `; <otherwise>`.
    public static func hint(for word: String, in candidates: some Sequence<String>, otherwise: String) -> String {
        closest(to: word, in: candidates).map { "; did you mean '\($0)'?" } ?? "; \(otherwise)"
    }

    /// Levenshtein distance (insert, delete, substitute; a swap of neighbours counts 1).
    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var prev2 = [Int](repeating: 0, count: b.count + 1)
        var prev = Array(0...b.count)
        var cur = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            cur[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    cur[j] = min(cur[j], prev2[j - 2] + 1)
                }
            }
            (prev2, prev, cur) = (prev, cur, prev2)
        }
        return prev[b.count]
    }
}
