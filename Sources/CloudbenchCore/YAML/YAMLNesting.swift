/// How deep a YAML file nests, found by one pass over its text before Yams composes it.
///
/// Yams builds (and frees) nodes recursively, so a file nested thousands of levels deep ends the
/// process with a stack overflow. cloudbench's files nest a handful of levels; this scan refuses
/// anything deeper than `limit` with the position where it gets too deep. It over-estimates
/// rather than under-estimates: block levels are counted by indentation and by `- ` / `? `
/// indicators on a line, flow levels by `[` and `{` outside quotes, comments and block scalars.
public enum YAMLNesting {
    /// Deepest nesting any cloudbench YAML file may have (inventories need about 6).
    public static let limit = 64

    /// Where the nesting first exceeds `limit` (1-based line and column), nil when it never does.
    public static func tooDeep(_ text: String, limit: Int = YAMLNesting.limit) -> (line: Int, column: Int)? {
        var text = text
        return text.withUTF8 { scan($0, limit: limit) }
    }

    private static func scan(_ b: UnsafeBufferPointer<UInt8>, limit: Int) -> (line: Int, column: Int)? {
        let space: UInt8 = 0x20, newline: UInt8 = 0x0A, cr: UInt8 = 0x0D
        var indents: [Int] = []      // indentation columns of the open block levels
        var flow = 0                 // open `[` and `{`
        var quote: UInt8 = 0         // the open quote character, 0 outside quotes
        var blockScalarIndent = -1   // inside a `|` or `>` scalar: the indentation of its key line
        var line = 0
        var i = 0
        while i < b.count {
            // One line: b[i..<end].
            line += 1
            var end = i
            while end < b.count, b[end] != newline { end += 1 }
            defer { i = end + 1 }
            var col = i
            while col < end, b[col] == space { col += 1 }
            let indent = col - i
            let blank = col == end || b[col] == cr || (b[col] == UInt8(ascii: "#") && quote == 0)
            if blockScalarIndent >= 0 {
                if blank || indent > blockScalarIndent { continue }
                blockScalarIndent = -1
            }
            if blank { continue }
            var depth = flow
            var last: UInt8 = 0      // the last significant character before the current one
            if quote == 0 && flow == 0 {
                while let top = indents.last, top >= indent { indents.removeLast() }
                indents.append(indent)
                depth = indents.count
                // `- - - x` and `? ? x`: every indicator on the line opens one more level.
                var j = col
                while j < end {
                    let c = b[j]
                    let next: UInt8 = j + 1 < end ? b[j + 1] : space
                    if (c == UInt8(ascii: "-") || c == UInt8(ascii: "?") || c == UInt8(ascii: ":")) && (next == space || next == cr) {
                        depth += 1
                        if depth > limit { return (line, j - i + 1) }
                        last = c
                        j += 1
                    } else if c == space {
                        j += 1
                    } else if c == UInt8(ascii: "&") || c == UInt8(ascii: "!") {
                        while j < end, b[j] != space { j += 1 }  // an anchor or a tag
                    } else {
                        break
                    }
                }
                col = j
            }
            if depth > limit { return (line, col - i + 1) }
            var j = col
            while j < end {
                let c = b[j]
                if quote != 0 {
                    if quote == UInt8(ascii: "\"") && c == UInt8(ascii: "\\") { j += 2; continue }
                    if c == quote {
                        // `''` inside single quotes is an escaped quote, not the end.
                        if quote == UInt8(ascii: "'"), j + 1 < end, b[j + 1] == quote { j += 2; continue }
                        quote = 0
                        last = c
                    }
                    j += 1
                    continue
                }
                switch c {
                case space, cr:
                    break
                case UInt8(ascii: "#") where j == col || b[j - 1] == space:
                    j = end
                    continue
                case UInt8(ascii: "\""), UInt8(ascii: "'"):
                    // A quote opens a scalar only where a scalar can start (not in `it's`).
                    if last == 0 || [UInt8(ascii: ":"), UInt8(ascii: "-"), UInt8(ascii: "?"), UInt8(ascii: ","),
                                     UInt8(ascii: "["), UInt8(ascii: "{")].contains(last) {
                        quote = c
                    }
                    last = c
                case UInt8(ascii: "&"), UInt8(ascii: "!"), UInt8(ascii: "*"):
                    // Anchors, tags and aliases do not change where a collection may start.
                    if last == 0 || b[j - 1] == space || b[j - 1] == UInt8(ascii: "[") || b[j - 1] == UInt8(ascii: "{")
                        || b[j - 1] == UInt8(ascii: ",") {
                        while j < end, b[j] != space, b[j] != UInt8(ascii: ","), b[j] != UInt8(ascii: "]"), b[j] != UInt8(ascii: "}") { j += 1 }
                        continue
                    }
                    last = c
                case UInt8(ascii: "["), UInt8(ascii: "{"):
                    if flow > 0 || last == 0 || last == UInt8(ascii: ":") || last == UInt8(ascii: "-") || last == UInt8(ascii: "?") {
                        flow += 1
                        depth += 1
                        if depth > limit { return (line, j - i + 1) }
                    }
                    last = c
                case UInt8(ascii: "]"), UInt8(ascii: "}"):
                    if flow > 0 { flow -= 1; depth -= 1 }
                    last = c
                case UInt8(ascii: "|"), UInt8(ascii: ">"):
                    // A block scalar: its text (the more indented lines below) is not YAML structure.
                    if flow == 0 && (last == 0 || last == UInt8(ascii: ":") || last == UInt8(ascii: "-")) {
                        blockScalarIndent = indent
                    }
                    last = c
                default:
                    last = c
                }
                j += 1
            }
        }
        return nil
    }
}
