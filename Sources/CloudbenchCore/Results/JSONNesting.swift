/// How deep a JSON text nests, found by one pass without recursion.
///
/// Result lines, agent output and imported iperf3 reports come from other programs and other
/// hosts; decoding them recurses per level, so a line nested 100,000 deep would overflow the
/// stack. A record's `detail` nests a few levels; anything deeper than `limit` is refused.
public enum JSONNesting {
    /// Deepest nesting accepted (a record with the agent's `detail` needs about 6).
    public static let limit = 64

    /// Refuses text nested deeper than `limit`, naming the byte column where it gets too deep.
    public struct TooDeep: Error, CustomStringConvertible, Sendable {
        public var column: Int
        public var description: String { "JSON nested deeper than \(JSONNesting.limit) levels (column \(column))" }
    }

    /// Throws `TooDeep` when `bytes` nest deeper than `limit` (brackets inside strings do not count).
    public static func check(_ bytes: UnsafeBufferPointer<UInt8>, limit: Int = JSONNesting.limit) throws(TooDeep) {
        var depth = 0
        var inString = false
        var i = 0
        while i < bytes.count {
            let c = bytes[i]
            if inString {
                if c == UInt8(ascii: "\\") { i += 2; continue }
                if c == UInt8(ascii: "\"") { inString = false }
            } else {
                switch c {
                case UInt8(ascii: "\""): inString = true
                case UInt8(ascii: "["), UInt8(ascii: "{"):
                    depth += 1
                    if depth > limit { throw TooDeep(column: i + 1) }
                case UInt8(ascii: "]"), UInt8(ascii: "}"): depth -= 1
                default: break
                }
            }
            i += 1
        }
    }

    /// The same for text.
    public static func check(_ text: String, limit: Int = JSONNesting.limit) throws(TooDeep) {
        var text = text
        let problem: TooDeep? = text.withUTF8 { b in
            do throws(TooDeep) { try check(b, limit: limit); return nil } catch { return error }
        }
        if let problem { throw problem }
    }
}
