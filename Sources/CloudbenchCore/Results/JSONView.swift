import Foundation

/// A read-only look into JSON without building a value tree: over a `JSONValue`, or over the
/// JSON text of a record's `detail` as it was read from a results file (`RecordDetail`).
///
/// A report reads a handful of keys from each record's `detail` (the knobs, a few figures, the
/// per-second intervals). Decoding the whole of every `detail` into dictionaries costs far more
/// than those lookups: over text, a lookup walks the object's members and skips the values it
/// does not want, and a number or string is decoded only when asked for, by the same code
/// (`JSONScanner`) that decodes the whole tree, so both give the same result.
///
/// Lookups follow `JSONValue`'s: when an object repeats a key, the last one counts; keys are
/// compared as `String`s (escapes resolved, canonical equivalence).
public struct JSONView: Sendable {
    enum Base: Sendable {
        case tree(JSONValue)
        /// Well-formed JSON text (`RecordDetail` checked it when it was read) and the offset of
        /// this value's first byte (never white space).
        case text(JSONText, Int)
    }

    let base: Base

    public init(_ value: JSONValue) { base = .tree(value) }

    init(text: JSONText, at offset: Int) { base = .text(text, offset) }

    /// The member `key` of an object; nil when this is not an object or has no such member.
    public subscript(key: String) -> JSONView? {
        switch base {
        case .tree(let v):
            return v[key].map(JSONView.init)
        case .text(let text, let at):
            func find(_ k: UnsafeBufferPointer<UInt8>) -> Int? {
                at == 0 ? text.topLevelMember(k) : text.withBytes { b in JSONView.member(k, inObjectAt: at, b, sorted: text.keysSorted) }
            }
            // A literal key's bytes are read in place (`withUTF8` would first check it can be mutated).
            let found = key.utf8.withContiguousStorageIfAvailable(find) ?? { var k = key; return k.withUTF8(find) }()
            return found.map { JSONView(text: text, at: $0) }
        }
    }

    /// The number, if this is one (decoded exactly as `JSONValue` decodes it).
    public var double: Double? {
        switch base {
        case .tree(let v):
            return v.double
        case .text(let text, let at):
            return text.withBytes { b -> Double? in
                guard JSONView.startsNumber(b[at]) else { return nil }
                var s = JSONScanner(b)
                s.i = at
                return s.number()
            }
        }
    }

    /// The string, if this is one.
    public var string: String? {
        switch base {
        case .tree(let v):
            return v.string
        case .text(let text, let at):
            return text.withBytes { b -> String? in
                guard b[at] == UInt8(ascii: "\"") else { return nil }
                var s = JSONScanner(b)
                s.i = at
                return s.string(intern: false)
            }
        }
    }

    public var isObject: Bool {
        switch base {
        case .tree(let v): if case .object = v { return true }; return false
        case .text(let text, let at): return text[at] == UInt8(ascii: "{")
        }
    }

    public var isArray: Bool {
        switch base {
        case .tree(let v): if case .array = v { return true }; return false
        case .text(let text, let at): return text[at] == UInt8(ascii: "[")
        }
    }

    /// The whole value as a tree (for the rare member worth decoding whole, such as `burst`).
    public var value: JSONValue {
        switch base {
        case .tree(let v):
            return v
        case .text(let text, let at):
            return text.withBytes { b in
                var s = JSONScanner(b)
                s.i = at
                s.depth = 1  // as when the record was read: the text was checked at that depth
                guard let v = s.value(intern: false) else { preconditionFailure("RecordDetail holds checked JSON text") }
                return v
            }
        }
    }

    /// Calls `body` with each element of an array, in order, until it returns false. Returns
    /// false when this is not an array.
    @discardableResult
    public func forEachElement(_ body: (JSONView) -> Bool) -> Bool {
        switch base {
        case .tree(let v):
            guard case .array(let items) = v else { return false }
            for item in items where !body(JSONView(item)) { break }
            return true
        case .text(let text, let at):
            return text.withBytes { b in
                guard b[at] == UInt8(ascii: "[") else { return false }
                var i = JSONView.skipSpace(b, at + 1)
                if b[i] == UInt8(ascii: "]") { return true }
                while body(JSONView(text: text, at: i)) {
                    i = JSONView.skipSpace(b, JSONView.skipValue(b, i))
                    if i >= b.count || b[i] == UInt8(ascii: "]") { break }
                    i = JSONView.skipSpace(b, i + 1)  // past the comma
                }
                return true
            }
        }
    }
}

extension JSONView {
    static func startsNumber(_ c: UInt8) -> Bool { c == UInt8(ascii: "-") || (c >= 0x30 && c <= 0x39) }

    static func skipSpace(_ b: UnsafeBufferPointer<UInt8>, _ from: Int) -> Int {
        var i = from
        while i < b.count, b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09 { i += 1 }
        return i
    }

    /// Past the value starting at `i` (well-formed text, so no checks but the buffer's end).
    static func skipValue(_ b: UnsafeBufferPointer<UInt8>, _ from: Int) -> Int {
        var i = from
        switch b[i] {
        case UInt8(ascii: "\""):
            return skipString(b, i)
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var depth = 0
            while i < b.count {
                let c = b[i]
                if c == UInt8(ascii: "\"") { i = skipString(b, i); continue }
                if c == UInt8(ascii: "{") || c == UInt8(ascii: "[") {
                    depth += 1
                } else if c == UInt8(ascii: "}") || c == UInt8(ascii: "]") {
                    depth -= 1
                    if depth == 0 { return i + 1 }
                }
                i += 1
            }
            return i
        default:
            // A number or a literal: up to the next delimiter.
            while i < b.count {
                let c = b[i]
                if c == UInt8(ascii: ",") || c == UInt8(ascii: "}") || c == UInt8(ascii: "]") || c == 0x20 || c == 0x0A
                    || c == 0x0D || c == 0x09 { break }
                i += 1
            }
            return i
        }
    }

    /// At a `"`: past the closing quote.
    static func skipString(_ b: UnsafeBufferPointer<UInt8>, _ from: Int) -> Int {
        var i = from + 1
        while i < b.count {
            let c = b[i]
            if c == UInt8(ascii: "\"") { return i + 1 }
            i += c == UInt8(ascii: "\\") ? 2 : 1
        }
        return i
    }

    /// The offset of the value of the last member named `key` in the object at `at`, if any.
    /// In `sorted` text (`JSONText.keysSorted`) an ASCII key is found at its first match, and
    /// looked for only until a key that sorts after it.
    static func member(_ key: UnsafeBufferPointer<UInt8>, inObjectAt at: Int, _ b: UnsafeBufferPointer<UInt8>,
                       sorted: Bool = false) -> Int? {
        guard b[at] == UInt8(ascii: "{") else { return nil }
        var i = skipSpace(b, at + 1)
        if b[i] == UInt8(ascii: "}") { return nil }
        var found: Int?
        let keyIsASCII = key.allSatisfy { $0 < 0x80 }
        if sorted && keyIsASCII {
            while i < b.count {
                let keyStart = i + 1
                var j = keyStart
                while b[j] != UInt8(ascii: "\"") { j += 1 }  // plain keys: no escapes
                let n = min(j - keyStart, key.count)
                let d = n == 0 ? 0 : memcmp(b.baseAddress! + keyStart, key.baseAddress!, n)
                i = skipSpace(b, skipSpace(b, j + 1) + 1)  // past the colon
                if d == 0 && j - keyStart == key.count { return i }
                if d > 0 || (d == 0 && j - keyStart > key.count) { return nil }  // sorts after `key`
                i = skipSpace(b, skipValue(b, i))
                if i >= b.count || b[i] == UInt8(ascii: "}") { return nil }
                i = skipSpace(b, i + 1)  // past the comma
            }
            return nil
        }
        while i < b.count {
            // At a key's opening quote.
            let keyStart = i + 1
            var j = keyStart
            while b[j] != UInt8(ascii: "\"") { j += b[j] == UInt8(ascii: "\\") ? 2 : 1 }
            let keyEnd = j
            let matches = keyMatches(key, keyIsASCII: keyIsASCII, b, keyStart, keyEnd)
            i = skipSpace(b, keyEnd + 1)
            i = skipSpace(b, i + 1)  // past the colon
            if matches { found = i }
            i = skipSpace(b, skipValue(b, i))
            if i >= b.count || b[i] == UInt8(ascii: "}") { break }
            i = skipSpace(b, i + 1)  // past the comma
        }
        return found
    }

    /// True when the key whose text (between its quotes) is `b[start..<end]` is `key`, compared
    /// as `String`s: bytes suffice when both are ASCII without escapes (no other spelling of an
    /// ASCII string is canonically equal to it).
    static func keyMatches(_ key: UnsafeBufferPointer<UInt8>, keyIsASCII: Bool, _ b: UnsafeBufferPointer<UInt8>, _ start: Int,
                           _ end: Int) -> Bool {
        var plain = keyIsASCII
        if plain {
            for j in start..<end where b[j] == UInt8(ascii: "\\") || b[j] >= 0x80 { plain = false; break }
        }
        if plain {
            return end - start == key.count && (key.isEmpty || memcmp(b.baseAddress! + start, key.baseAddress!, key.count) == 0)
        }
        var s = JSONScanner(b)
        s.i = start - 1
        return s.string(intern: false) == String(decoding: key, as: UTF8.self)
    }
}
