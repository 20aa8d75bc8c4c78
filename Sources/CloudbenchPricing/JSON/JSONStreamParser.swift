/// An incremental JSON tokenizer: feed it the body in chunks of any size, as libcurl delivers them,
/// and it reports events to a handler without ever holding the document.
///
/// It checks the grammar (RFC 8259) fully, so a truncated or malformed body is an error, not a
/// silently short result.
public struct JSONStreamParser<Handler: JSONEventHandler> {
    public let handler: Handler
    /// Bytes consumed so far, for error messages.
    public private(set) var offset = 0

    private enum Expect { case value, valueOrEndArray, keyOrEndObject, key, colon, commaOrEnd, done }
    private enum Lexeme { case none, string(isKey: Bool), number, literal(index: Int) }

    private var expect = Expect.value
    private var lexeme = Lexeme.none
    private var stack: [UInt8] = []  // "{" or "["
    private var scratch: [UInt8] = []
    // String escapes: 0 none, 1 after "\", 2…5 reading \u hex digits.
    private var escape = 0
    private var hex: UInt32 = 0
    private var pendingHigh: UInt32?
    private var literalBytes: [UInt8] = []
    private var literalValue: Bool?
    private let maxDepth = 512
    /// The longest string, key or number: the offer files' longest strings are a few hundred
    /// bytes; a body that never closes its quote must not grow the buffer without bound.
    public static var maxToken: Int { 1 << 20 }

    public init(handler: Handler) {
        self.handler = handler
        scratch.reserveCapacity(256)
    }

    /// Parses the next chunk.
    public mutating func feed(_ chunk: UnsafeRawBufferPointer) throws {
        let bytes = chunk.bindMemory(to: UInt8.self)
        var i = 0
        let n = bytes.count
        while i < n {
            switch lexeme {
            case .string(let isKey):
                if escape == 0 {
                    // Fast path: copy the run of plain bytes in one go.
                    var j = i
                    while j < n {
                        let b = bytes[j]
                        if b == 0x22 || b == 0x5C || b < 0x20 { break }
                        j += 1
                    }
                    if j > i {
                        if pendingHigh != nil { flushHighSurrogate() }
                        scratch.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[i..<j]))
                        offset += j - i
                        i = j
                        if scratch.count > Self.maxToken { throw syntax("a string longer than \(Self.maxToken) bytes") }
                        continue
                    }
                    let b = bytes[i]
                    if b == 0x22 {
                        if pendingHigh != nil { flushHighSurrogate() }
                        lexeme = .none
                        try scratch.withUnsafeBufferPointer { isKey ? try handler.key($0) : try handler.string($0) }
                        if isKey { expect = .colon } else { afterValue() }
                    } else if b == 0x5C {
                        escape = 1
                    } else {
                        throw syntax("a control character inside a string")
                    }
                } else {
                    try stringEscape(bytes[i])
                }
                i += 1; offset += 1
                if scratch.count > Self.maxToken { throw syntax("a string longer than \(Self.maxToken) bytes") }
            case .number:
                let b = bytes[i]
                if (b >= 0x30 && b <= 0x39) || b == 0x2E || b == 0x2D || b == 0x2B || b == 0x65 || b == 0x45 {
                    scratch.append(b)
                    i += 1; offset += 1
                    if scratch.count > Self.maxToken { throw syntax("a number longer than \(Self.maxToken) bytes") }
                } else {
                    try finishNumber()
                    // The byte that ended the number is structural: handle it below on the next turn.
                }
            case .literal(let index):
                let b = bytes[i]
                guard b == literalBytes[index] else { throw syntax("a misspelled true, false or null") }
                if index + 1 == literalBytes.count {
                    lexeme = .none
                    try handler.literal(literalValue)
                    afterValue()
                } else {
                    lexeme = .literal(index: index + 1)
                }
                i += 1; offset += 1
            case .none:
                try structural(bytes[i])
                i += 1; offset += 1
            }
        }
    }

    /// Ends the document: anything unfinished is an error.
    public mutating func finish() throws {
        if case .number = lexeme { try finishNumber() }
        guard case .none = lexeme, expect == .done else {
            throw syntax(offset == 0 ? "an empty body" : "the body ends in the middle of the document")
        }
    }

    private mutating func structural(_ b: UInt8) throws {
        switch b {
        case 0x20, 0x09, 0x0A, 0x0D: return
        case 0x7B:  // {
            try beginValue()
            try push(0x7B)
            expect = .keyOrEndObject
            try handler.startObject()
        case 0x5B:  // [
            try beginValue()
            try push(0x5B)
            expect = .valueOrEndArray
            try handler.startArray()
        case 0x7D:  // }
            guard stack.last == 0x7B, expect == .keyOrEndObject || expect == .commaOrEnd else { throw syntax(unexpected(b)) }
            stack.removeLast()
            try handler.endObject()
            afterValue()
        case 0x5D:  // ]
            guard stack.last == 0x5B, expect == .valueOrEndArray || expect == .commaOrEnd else { throw syntax(unexpected(b)) }
            stack.removeLast()
            try handler.endArray()
            afterValue()
        case 0x2C:  // ,
            guard expect == .commaOrEnd else { throw syntax(unexpected(b)) }
            expect = stack.last == 0x7B ? .key : .value
        case 0x3A:  // :
            guard expect == .colon else { throw syntax(unexpected(b)) }
            expect = .value
        case 0x22:  // "
            scratch.removeAll(keepingCapacity: true)
            if expect == .key || expect == .keyOrEndObject {
                lexeme = .string(isKey: true)
            } else {
                try beginValue()
                lexeme = .string(isKey: false)
            }
        case 0x2D, 0x30...0x39:
            try beginValue()
            scratch.removeAll(keepingCapacity: true)
            scratch.append(b)
            lexeme = .number
        case 0x74, 0x66, 0x6E:  // t f n
            try beginValue()
            switch b {
            case 0x74: literalBytes = Array("true".utf8); literalValue = true
            case 0x66: literalBytes = Array("false".utf8); literalValue = false
            default: literalBytes = Array("null".utf8); literalValue = nil
            }
            lexeme = .literal(index: 1)
        default:
            throw syntax(unexpected(b))
        }
    }

    private func unexpected(_ b: UInt8) -> String {
        let shown = b >= 0x20 && b < 0x7F ? "'\(Character(Unicode.Scalar(b)))'" : "byte 0x\(String(b, radix: 16))"
        return expect == .done ? "\(shown) after the end of the document" : "\(shown) where \(expectation) was expected"
    }

    private var expectation: String {
        switch expect {
        case .done: return "the end of the document"
        case .colon: return "':'"
        case .key, .keyOrEndObject: return "an object key"
        case .commaOrEnd: return "',' or the end of a list or object"
        case .value, .valueOrEndArray: return "a value"
        }
    }

    private func beginValue() throws {
        guard expect == .value || expect == .valueOrEndArray else {
            throw syntax(expect == .done ? "more data after the end of the document" : "a value where \(expectation) was expected")
        }
    }

    private mutating func push(_ b: UInt8) throws {
        guard stack.count < maxDepth else { throw syntax("nesting deeper than \(maxDepth) levels") }
        stack.append(b)
    }

    private mutating func afterValue() {
        expect = stack.isEmpty ? .done : .commaOrEnd
    }

    private mutating func finishNumber() throws {
        lexeme = .none
        guard JSONStreamParser.isValidNumber(scratch) else {
            throw syntax("a malformed number '\(String(decoding: scratch, as: UTF8.self))'")
        }
        try scratch.withUnsafeBufferPointer { try handler.number($0) }
        afterValue()
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
    static func isValidNumber(_ s: [UInt8]) -> Bool {
        var i = 0
        func digits() -> Int { let start = i; while i < s.count, s[i] >= 0x30, s[i] <= 0x39 { i += 1 }; return i - start }
        if i < s.count, s[i] == 0x2D { i += 1 }
        guard i < s.count else { return false }
        if s[i] == 0x30 { i += 1 } else if digits() == 0 { return false }
        if i < s.count, s[i] == 0x2E { i += 1; if digits() == 0 { return false } }
        if i < s.count, s[i] == 0x65 || s[i] == 0x45 {
            i += 1
            if i < s.count, s[i] == 0x2B || s[i] == 0x2D { i += 1 }
            if digits() == 0 { return false }
        }
        return i == s.count
    }

    private mutating func stringEscape(_ b: UInt8) throws {
        if escape == 1 {
            var out: UInt8?
            switch b {
            case 0x22: out = 0x22
            case 0x5C: out = 0x5C
            case 0x2F: out = 0x2F
            case 0x62: out = 0x08
            case 0x66: out = 0x0C
            case 0x6E: out = 0x0A
            case 0x72: out = 0x0D
            case 0x74: out = 0x09
            case 0x75: escape = 2; hex = 0; return
            default: throw syntax("an invalid escape '\\\(Character(Unicode.Scalar(b)))' in a string")
            }
            if pendingHigh != nil { flushHighSurrogate() }
            scratch.append(out!)
            escape = 0
            return
        }
        let v: UInt32
        switch b {
        case 0x30...0x39: v = UInt32(b - 0x30)
        case 0x61...0x66: v = UInt32(b - 0x61 + 10)
        case 0x41...0x46: v = UInt32(b - 0x41 + 10)
        default: throw syntax("an invalid \\u escape in a string")
        }
        hex = hex << 4 | v
        escape += 1
        guard escape == 6 else { return }
        escape = 0
        if (0xDC00...0xDFFF).contains(hex), let high = pendingHigh {
            pendingHigh = nil
            appendScalar(0x10000 + ((high - 0xD800) << 10) + (hex - 0xDC00))
        } else if (0xD800...0xDBFF).contains(hex) {
            if pendingHigh != nil { flushHighSurrogate() }
            pendingHigh = hex
        } else {
            if pendingHigh != nil { flushHighSurrogate() }
            appendScalar(hex)
        }
    }

    /// A lone surrogate becomes U+FFFD, as a lenient decoder would show it.
    private mutating func flushHighSurrogate() {
        pendingHigh = nil
        appendScalar(0xFFFD)
    }

    private mutating func appendScalar(_ value: UInt32) {
        let scalar = Unicode.Scalar(value) ?? "\u{FFFD}"
        scratch.append(contentsOf: Array(String(Character(scalar)).utf8))
    }

    private func syntax(_ what: String) -> PricingError {
        PricingError("malformed JSON at byte \(offset): \(what)")
    }
}
