import Foundation

/// A small, seeded generator (SplitMix64): the same seed gives the same inputs on every machine.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Turns valid inputs into hostile ones: byte flips, extreme numbers, deep nesting, escape
/// sequences, deleted and repeated slices, and lines spliced from other seeds.
struct Mutator {
    var rng: SeededGenerator

    /// Tokens that have broken parsers before: huge, tiny and non-finite numbers, units,
    /// YAML and JSON structure, control characters and terminal escapes.
    static let tokens: [String] = [
        "99999999999999999999", "99999999999999999s", "1000000000000000h", "2000000h", "600h", "1e308", "-1e308",
        "1e-300", "1e-9", "1e19", "1e300", "-1", "0", "-0", "nan", "NaN", "inf", "-inf", "9223372036854775807",
        "-9223372036854775808", "18446744073709551616", "0.000001", "1.5.5", "0x10", "1_000", "٣",
        "[", "]", "{", "}", ": ", "- ", "? ", ",", "\"", "'", "#", "&a ", "*a", "!!binary ", "<<: *a", "|", ">", "~",
        "\t", "\r", "\n", "\0", "\u{1B}[31m", "\u{1B}]0;title\u{07}", "\u{202E}", "\u{FEFF}", "é", "\u{10FFFF}",
        "=", "==", " ", "RESULT ", "DATA ", "cloudbench-agent/1 ", "intervals=", ",,,", "duration=", "interval=",
    ]

    mutating func int(_ n: Int) -> Int { n <= 1 ? 0 : Int(rng.next() % UInt64(n)) }

    /// One to four mutations of `text`; `others` are spliced from.
    mutating func mutate(_ text: String, others: [String]) -> String {
        var s = Array(text.unicodeScalars)
        for _ in 0...int(4) {
            let at = int(s.count + 1)
            switch int(9) {
            case 0:  // replace one character with a token
                if !s.isEmpty { s.replaceSubrange(min(at, s.count - 1)...min(at, s.count - 1), with: token()) }
            case 1, 2:  // insert a token
                s.insert(contentsOf: token(), at: at)
            case 3:  // delete a slice
                if !s.isEmpty { let end = min(s.count, at + 1 + int(40)); s.removeSubrange(min(at, s.count)..<end) }
            case 4:  // repeat a slice
                if !s.isEmpty {
                    let from = int(s.count), end = min(s.count, from + 1 + int(80))
                    s.insert(contentsOf: s[from..<end], at: at)
                }
            case 5:  // nest deeply
                let depth = [10, 70, 300, 5000][int(4)]
                let (open, close) = [("[", "]"), ("{", "}"), ("- ", ""), ("[{\"a\":", "}]")][int(4)]
                s.insert(contentsOf: (String(repeating: open, count: depth) + "1" + String(repeating: close, count: depth)).unicodeScalars, at: at)
            case 6:  // a number becomes an extreme one
                if let r = numberRange(in: s, near: at) { s.replaceSubrange(r, with: token(numbersOnly: true)) }
            case 7:  // splice a line from another seed
                if let other = others.randomElement(using: &rng) {
                    let lines = other.split(separator: "\n", omittingEmptySubsequences: false)
                    if let line = lines.randomElement(using: &rng) { s.insert(contentsOf: (line + "\n").unicodeScalars, at: at) }
                }
            default:  // indentation shifts
                s.insert(contentsOf: String(repeating: " ", count: 1 + int(6)).unicodeScalars, at: at)
            }
        }
        var out = String.UnicodeScalarView()
        out.append(contentsOf: s)
        return String(out)
    }

    mutating func token(numbersOnly: Bool = false) -> [Unicode.Scalar] {
        let pool = numbersOnly ? Array(Self.tokens.prefix(26)) : Self.tokens
        return Array(pool[int(pool.count)].unicodeScalars)
    }

    /// The digits (and point) around `at`, if any within 20 characters.
    func numberRange(in s: [Unicode.Scalar], near at: Int) -> Range<Int>? {
        guard !s.isEmpty else { return nil }
        var i = min(at, s.count - 1)
        let limit = min(s.count, i + 20)
        while i < limit, !("0"..."9").contains(s[i]) { i += 1 }
        guard i < limit else { return nil }
        var j = i
        while j < s.count, ("0"..."9").contains(s[j]) || s[j] == "." { j += 1 }
        return i..<j
    }
}
