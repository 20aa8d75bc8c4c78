import Foundation

/// A fast reader for one result-record line: a small JSON scanner over UTF-8 bytes that builds a
/// `ResultRecord` directly.
///
/// `JSONDecoder` costs tens of microseconds per record (about 4 s for 100,000 records with an
/// agent's `detail`); reports must render 100,000 records in under a second. Anything this reader
/// does not accept (bad JSON, a missing or mistyped field) returns nil, and the caller decodes the
/// line with `JSONDecoder` instead, which names the problem. Both give the same record.
enum RecordDecoder {
    static func decode(_ bytes: UnsafeBufferPointer<UInt8>) -> ResultRecord? {
        var s = JSONScanner(bytes)
        return decode(bytes, scanner: &s)
    }

    /// The same with a scanner kept from line to line (its scratch space and the strings it has
    /// seen are reused: one per chunk of a file).
    static func decode(_ bytes: UnsafeBufferPointer<UInt8>, scanner s: inout JSONScanner) -> ResultRecord? {
        s.start(bytes)
        s.depth = 1  // the record itself; `detail` is one level down
        // Top-level keys go straight into fields (no dictionary per record); keys are short
        // enough to be stored inline in `String`, so reading them does not allocate.
        var schema, id, runID, time, pair, provider, type, region, path, test, status: String?
        var placement, error, unit, source: String?
        var repetition: Int?
        var value: Double?
        var price: Money?
        var detail: RecordDetail?
        s.skipSpace()
        guard s.i < bytes.count, bytes[s.i] == UInt8(ascii: "{") else { return nil }
        s.i += 1
        s.skipSpace()
        if s.i < bytes.count, bytes[s.i] == UInt8(ascii: "}") { return nil }
        while true {
            s.skipSpace()
            guard s.i < bytes.count, bytes[s.i] == UInt8(ascii: "\""), let (keyStart, keyCount) = s.rawString() else { return nil }
            let key = Field(bytes, keyStart, keyCount)
            s.skipSpace()
            guard s.i < bytes.count, bytes[s.i] == UInt8(ascii: ":") else { return nil }
            s.i += 1
            if key == .detail {
                // Checked, not built: kept as text (`RecordDetail`) and read where it is needed.
                s.skipSpace()
                let start = s.i
                guard s.check(indexing: true) else { return nil }
                let text = UnsafeBufferPointer(rebasing: bytes[start..<s.i])
                guard text.count < Int(UInt32.max) else { return nil }  // `JSONText` counts in UInt32
                let isNull = text.count == 4 && bytes[start] == UInt8(ascii: "n")
                detail = isNull ? nil : RecordDetail(checkedText: JSONText(text, index: s.index, keysSorted: s.keysSorted))
                s.skipSpace()
                guard s.i < bytes.count else { return nil }
                if bytes[s.i] == UInt8(ascii: ",") { s.i += 1; continue }
                if bytes[s.i] == UInt8(ascii: "}") { s.i += 1; break }
                return nil
            }
            // Ids are unique: kept out of the scanner's table of repeated strings.
            guard let v = s.value(intern: key != .id) else { return nil }
            switch key {
            case .schema?: guard case .string(let x) = v else { return nil }; schema = x
            case .id?: guard case .string(let x) = v else { return nil }; id = x
            case .runID?: guard case .string(let x) = v else { return nil }; runID = x
            case .time?: guard case .string(let x) = v else { return nil }; time = x
            case .pair?: guard case .string(let x) = v else { return nil }; pair = x
            case .provider?: guard case .string(let x) = v else { return nil }; provider = x
            case .type?: guard case .string(let x) = v else { return nil }; type = x
            case .region?: guard case .string(let x) = v else { return nil }; region = x
            case .path?: guard case .string(let x) = v else { return nil }; path = x
            case .test?: guard case .string(let x) = v else { return nil }; test = x
            case .status?: guard case .string(let x) = v else { return nil }; status = x
            case .placement?, .error?, .unit?, .source?:
                let text: String?
                switch v {
                case .null: text = nil
                case .string(let x): text = x
                default: return nil
                }
                switch key {
                case .placement?: placement = text
                case .error?: error = text
                case .unit?: unit = text
                default: source = text
                }
            case .repetition?:
                guard case .number(let x) = v, let n = Int(exactly: x) else { return nil }
                repetition = n
            case .value?:
                switch v {
                case .null: value = nil
                case .number(let x): value = x
                default: return nil
                }
            case .price?:
                switch v {
                case .null: price = nil
                case .object(let p):
                    guard case .string(let a)? = p["amount"], case .string(let c)? = p["currency"],
                          let d = plainDecimal(a) ?? Money.decimal(a) else { return nil }
                    price = Money(d, c)
                default: return nil
                }
            default:
                break
            }
            s.skipSpace()
            guard s.i < bytes.count else { return nil }
            if bytes[s.i] == UInt8(ascii: ",") { s.i += 1; continue }
            if bytes[s.i] == UInt8(ascii: "}") { s.i += 1; break }
            return nil
        }
        guard s.atEnd(), let schema, let id, let runID, let time, let pair, let provider, let type, let region, let path,
              let test, let repetition, let statusText = status, let st = ResultRecord.Status(rawValue: statusText) else { return nil }
        var r = ResultRecord(id: id, runID: runID, time: time, pair: pair, provider: provider, type: type, region: region,
                             placement: placement, path: path, test: test, repetition: repetition, status: st, error: error,
                             value: value, unit: unit, price: price, source: source)
        r.storedDetail = detail
        r.schema = schema
        return r
    }
}

extension RecordDecoder {
    /// The top-level keys of a record, recognised from their bytes by length and a packed
    /// 64-bit prefix: a `switch` over `String` would compare the key with every case in turn.
    enum Field {
        case schema, id, runID, time, pair, provider, type, region, path, test, status
        case placement, error, unit, source, repetition, value, price, detail

        static func pack(_ b: UnsafeBufferPointer<UInt8>, _ start: Int, _ n: Int) -> UInt64 {
            var v: UInt64 = 0
            for j in 0..<min(n, 8) { v |= UInt64(b[start + j]) << (8 * UInt64(j)) }
            return v
        }

        static func pack(_ s: StaticString) -> UInt64 {
            s.withUTF8Buffer { pack($0, 0, $0.count) }
        }

        static let table: [(count: Int, packed: UInt64, name: StaticString, field: Field)] = [
            (6, pack("schema"), "schema", .schema), (2, pack("id"), "id", .id), (6, pack("run_id"), "run_id", .runID),
            (4, pack("time"), "time", .time), (4, pack("pair"), "pair", .pair), (8, pack("provider"), "provider", .provider),
            (4, pack("type"), "type", .type), (6, pack("region"), "region", .region), (4, pack("path"), "path", .path),
            (4, pack("test"), "test", .test), (6, pack("status"), "status", .status),
            (9, pack("placement"), "placement", .placement), (5, pack("error"), "error", .error), (4, pack("unit"), "unit", .unit),
            (6, pack("source"), "source", .source), (10, pack("repetition"), "repetition", .repetition),
            (5, pack("value"), "value", .value), (5, pack("price"), "price", .price), (6, pack("detail"), "detail", .detail),
        ]

        /// nil for a key records do not have (ignored, as `JSONDecoder` ignores it).
        init?(_ b: UnsafeBufferPointer<UInt8>, _ start: Int, _ n: Int) {
            let packed = Field.pack(b, start, n)
            for entry in Field.table where entry.count == n && entry.packed == packed {
                // Keys longer than 8 bytes: check the rest too.
                if n > 8 {
                    let rest = entry.name.withUTF8Buffer { name in (8..<n).allSatisfy { name[$0] == b[start + $0] } }
                    if !rest { return nil }
                }
                self = entry.field
                return
            }
            return nil
        }
    }

    /// `0.1207` → exactly 0.1207 without a locale (creating one per record is slow); nil for
    /// anything but plain digits with at most one point and 18 digits, which `Money.decimal` handles.
    static func plainDecimal(_ text: String) -> Decimal? {
        var mantissa: UInt64 = 0, digits = 0, scale = 0, seenPoint = false
        for c in text.utf8 {
            if c == UInt8(ascii: ".") {
                if seenPoint { return nil }
                seenPoint = true
            } else if c >= 0x30, c <= 0x39 {
                digits += 1
                if digits > 18 { return nil }
                mantissa = mantissa * 10 + UInt64(c - 0x30)
                if seenPoint { scale += 1 }
            } else {
                return nil
            }
        }
        guard digits > 0 else { return nil }
        return Decimal(sign: .plus, exponent: -scale, significand: Decimal(mantissa))
    }
}

/// Just enough JSON (RFC 8259) for result lines; nil on anything malformed.
struct JSONScanner {
    var b: UnsafeBufferPointer<UInt8>
    var i = 0
    /// Open objects and arrays: past `JSONNesting.limit` the scanner gives up (nil) instead of
    /// recursing until the stack overflows.
    var depth = 0
    /// The members of the objects and the elements of the arrays being read, innermost last:
    /// each object or array is built at its exact size once its end is reached (growing a
    /// dictionary or an array one member at a time reallocates it several times).
    var members: [(String, JSONValue)] = []
    var elements: [JSONValue] = []
    /// Strings longer than fit inline in a `String` (keys such as `bytes_per_second`, run ids,
    /// pair names, sources) repeat from record to record: each is allocated once per scanner and
    /// shared. A table of `internSlots` strings, one per slot of their hash (a later string with
    /// the same slot takes it over), so its size is fixed whatever the input.
    var interned: [String?] = []
    static let internSlots = 4096
    /// The members `check(indexing:)` found, reused from record to record.
    var index: [UInt32] = []
    /// Set by `check(indexing:)`: every object's keys are plain ASCII (no escapes) in strictly
    /// increasing byte order, as cloudbench writes them (sorted), so no key repeats.
    var keysSorted = false

    init(_ bytes: UnsafeBufferPointer<UInt8>) { b = bytes }

    /// Starts on another text, keeping the scratch space and the interned strings.
    mutating func start(_ bytes: UnsafeBufferPointer<UInt8>) {
        b = bytes
        i = 0
        depth = 0
        members.removeAll(keepingCapacity: true)
        elements.removeAll(keepingCapacity: true)
    }

    mutating func skipSpace() {
        while i < b.count, b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09 { i += 1 }
    }

    mutating func atEnd() -> Bool { skipSpace(); return i == b.count }

    mutating func value(intern: Bool = true) -> JSONValue? {
        skipSpace()
        guard i < b.count else { return nil }
        switch b[i] {
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            depth += 1
            defer { depth -= 1 }
            guard depth <= JSONNesting.limit else { return nil }
            return b[i] == UInt8(ascii: "{") ? object() : array()
        case UInt8(ascii: "\""):
            return string(intern: intern).map(JSONValue.string)
        case UInt8(ascii: "t"): return literal("true", .bool(true))
        case UInt8(ascii: "f"): return literal("false", .bool(false))
        case UInt8(ascii: "n"): return literal("null", .null)
        default:
            return number().map(JSONValue.number)
        }
    }

    /// Past the value at `i` (after white space) if `value()` would accept it there, without
    /// building it: the same grammar, escapes and nesting limit. False for anything else.
    /// `indexing` an object fills `index` with its members' key start, key end (between the
    /// quotes) and value start, as offsets from the object's `{`, and sets `keysSorted` (`JSONText`).
    mutating func check(indexing: Bool = false) -> Bool {
        skipSpace()
        guard i < b.count else { return false }
        if indexing {
            index.removeAll(keepingCapacity: true)
            keysSorted = true
        }
        let origin = i
        switch b[i] {
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            depth += 1
            defer { depth -= 1 }
            guard depth <= JSONNesting.limit else { return false }
            let close = b[i] == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
            let indexing = indexing && close == UInt8(ascii: "}")
            i += 1
            skipSpace()
            if i < b.count, b[i] == close { i += 1; return true }
            var previousKey: Range<Int>?
            while true {
                if close == UInt8(ascii: "}") {
                    skipSpace()
                    let keyStart = i + 1
                    guard i < b.count, b[i] == UInt8(ascii: "\""), checkString() else { return false }
                    let keyEnd = i - 1
                    if keysSorted {
                        keysSorted = plainKey(keyStart..<keyEnd) && previousKey.map { comesBefore($0, keyStart..<keyEnd) } ?? true
                        previousKey = keyStart..<keyEnd
                    }
                    skipSpace()
                    guard i < b.count, b[i] == UInt8(ascii: ":") else { return false }
                    i += 1
                    if indexing {
                        skipSpace()
                        guard i - origin <= Int(UInt32.max) else { return false }
                        index.append(UInt32(keyStart - origin))
                        index.append(UInt32(keyEnd - origin))
                        index.append(UInt32(i - origin))
                    }
                }
                guard check() else { return false }
                skipSpace()
                guard i < b.count else { return false }
                if b[i] == UInt8(ascii: ",") { i += 1; continue }
                if b[i] == close { i += 1; return true }
                return false
            }
        case UInt8(ascii: "\""): return checkString()
        case UInt8(ascii: "t"): return literal("true", .null) != nil
        case UInt8(ascii: "f"): return literal("false", .null) != nil
        case UInt8(ascii: "n"): return literal("null", .null) != nil
        default: return number() != nil
        }
    }

    /// ASCII without escapes: its bytes are its characters.
    func plainKey(_ r: Range<Int>) -> Bool {
        for j in r where b[j] >= 0x80 || b[j] == UInt8(ascii: "\\") { return false }
        return true
    }

    /// True when the bytes of `a` sort strictly before those of `c` (a prefix first).
    func comesBefore(_ a: Range<Int>, _ c: Range<Int>) -> Bool {
        let n = min(a.count, c.count)
        let d = n == 0 ? 0 : memcmp(b.baseAddress! + a.lowerBound, b.baseAddress! + c.lowerBound, n)
        return d < 0 || (d == 0 && a.count < c.count)
    }

    /// At a `"`: past the closing quote if `string()` would accept the string.
    mutating func checkString() -> Bool {
        i += 1
        while i < b.count {
            let c = b[i]
            if c == UInt8(ascii: "\"") { i += 1; return true }
            if c < 0x20 { return false }
            i += 1
            guard c == UInt8(ascii: "\\") else { continue }
            guard i < b.count else { return false }
            let e = b[i]
            i += 1
            switch e {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"), UInt8(ascii: "n"),
                 UInt8(ascii: "r"), UInt8(ascii: "t"):
                continue
            case UInt8(ascii: "u"):
                guard var scalar = hex4() else { return false }
                if (0xD800..<0xDC00).contains(scalar) {
                    guard i + 1 < b.count, b[i] == UInt8(ascii: "\\"), b[i + 1] == UInt8(ascii: "u") else { return false }
                    i += 2
                    guard let low = hex4(), (0xDC00..<0xE000).contains(low) else { return false }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                }
                guard Unicode.Scalar(scalar) != nil else { return false }
            default:
                return false
            }
        }
        return false
    }

    /// At a `{`: the object, past its `}`.
    mutating func object() -> JSONValue? {
        i += 1
        skipSpace()
        if i < b.count, b[i] == UInt8(ascii: "}") { i += 1; return .object([:]) }
        let base = members.count
        defer { members.removeSubrange(base...) }
        while true {
            skipSpace()
            guard i < b.count, b[i] == UInt8(ascii: "\""), let k = string() else { return nil }
            skipSpace()
            guard i < b.count, b[i] == UInt8(ascii: ":") else { return nil }
            i += 1
            guard let v = value() else { return nil }
            members.append((k, v))
            skipSpace()
            guard i < b.count else { return nil }
            if b[i] == UInt8(ascii: ",") { i += 1; continue }
            if b[i] == UInt8(ascii: "}") {
                i += 1
                var o = [String: JSONValue](minimumCapacity: members.count - base)
                for (k, v) in members[base...] { o[k] = v }  // a repeated key: the last one counts
                return .object(o)
            }
            return nil
        }
    }

    /// At a `[`: the array, past its `]`.
    mutating func array() -> JSONValue? {
        i += 1
        skipSpace()
        if i < b.count, b[i] == UInt8(ascii: "]") { i += 1; return .array([]) }
        let base = elements.count
        defer { elements.removeSubrange(base...) }
        while true {
            guard let v = value() else { return nil }
            elements.append(v)
            skipSpace()
            guard i < b.count else { return nil }
            if b[i] == UInt8(ascii: ",") { i += 1; continue }
            if b[i] == UInt8(ascii: "]") { i += 1; return .array(Array(elements[base...])) }
            return nil
        }
    }

    mutating func literal(_ word: StaticString, _ v: JSONValue) -> JSONValue? {
        let n = word.utf8CodeUnitCount
        guard i + n <= b.count else { return nil }
        for k in 0..<n where b[i + k] != word.utf8Start[k] { return nil }
        i += n
        return v
    }

    /// At a `"`: the range of a string without escapes (nil if it has any), past the closing quote.
    mutating func rawString() -> (Int, Int)? {
        let start = i + 1
        var j = start
        while j < b.count, b[j] != UInt8(ascii: "\""), b[j] != UInt8(ascii: "\\"), b[j] >= 0x20 { j += 1 }
        guard j < b.count, b[j] == UInt8(ascii: "\"") else { return nil }
        i = j + 1
        return (start, j - start)
    }

    /// At a `"`: the string's contents, escapes resolved.
    mutating func string(intern: Bool = true) -> String? {
        i += 1
        let start = i
        while i < b.count, b[i] != UInt8(ascii: "\""), b[i] != UInt8(ascii: "\\"), b[i] >= 0x20 { i += 1 }
        guard i < b.count else { return nil }
        if b[i] == UInt8(ascii: "\"") {
            let raw = UnsafeBufferPointer(rebasing: b[start..<i])
            i += 1
            return intern && raw.count > 15 ? interning(raw) : String(decoding: raw, as: UTF8.self)
        }
        guard b[i] == UInt8(ascii: "\\") else { return nil }
        var bytes = Array(b[start..<i])
        while i < b.count {
            let c = b[i]
            if c == UInt8(ascii: "\"") { i += 1; return String(decoding: bytes, as: UTF8.self) }
            if c < 0x20 { return nil }
            if c != UInt8(ascii: "\\") { bytes.append(c); i += 1; continue }
            i += 1
            guard i < b.count else { return nil }
            let e = b[i]
            i += 1
            switch e {
            case UInt8(ascii: "\""): bytes.append(0x22)
            case UInt8(ascii: "\\"): bytes.append(0x5C)
            case UInt8(ascii: "/"): bytes.append(0x2F)
            case UInt8(ascii: "b"): bytes.append(0x08)
            case UInt8(ascii: "f"): bytes.append(0x0C)
            case UInt8(ascii: "n"): bytes.append(0x0A)
            case UInt8(ascii: "r"): bytes.append(0x0D)
            case UInt8(ascii: "t"): bytes.append(0x09)
            case UInt8(ascii: "u"):
                guard var scalar = hex4() else { return nil }
                if (0xD800..<0xDC00).contains(scalar) {
                    guard i + 1 < b.count, b[i] == UInt8(ascii: "\\"), b[i + 1] == UInt8(ascii: "u") else { return nil }
                    i += 2
                    guard let low = hex4(), (0xDC00..<0xE000).contains(low) else { return nil }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                }
                guard let u = Unicode.Scalar(scalar) else { return nil }
                bytes.append(contentsOf: Array(String(Character(u)).utf8))
            default: return nil
            }
        }
        return nil
    }

    /// The string of `raw`, shared with an earlier one of the same bytes when there was one.
    mutating func interning(_ raw: UnsafeBufferPointer<UInt8>) -> String {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325  // FNV-1a
        for c in raw { hash = (hash ^ UInt64(c)) &* 0x0100_0000_01B3 }
        if interned.isEmpty { interned = Array(repeating: nil, count: Self.internSlots) }
        let slot = Int(truncatingIfNeeded: (hash ^ (hash >> 32)) & UInt64(Self.internSlots - 1))
        if var known = interned[slot] {
            let same = known.withUTF8 { k in k.count == raw.count && memcmp(k.baseAddress!, raw.baseAddress!, raw.count) == 0 }
            if same { return known }
        }
        let s = String(decoding: raw, as: UTF8.self)
        interned[slot] = s
        return s
    }

    mutating func hex4() -> UInt32? {
        guard i + 4 <= b.count else { return nil }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = b[i]
            let d: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = c - UInt8(ascii: "A") + 10
            default: return nil
            }
            v = v << 4 | UInt32(d)
            i += 1
        }
        return v
    }

    static let powersOfTen: [Double] = (0...22).map { pow(10, Double($0)) }

    /// A JSON number, correctly rounded: exact integer arithmetic when the digits fit
    /// (Clinger's fast path), else `strtod`.
    mutating func number() -> Double? {
        let start = i
        var negative = false
        if i < b.count, b[i] == UInt8(ascii: "-") { negative = true; i += 1 }
        var mantissa: UInt64 = 0, digits = 0, exp10 = 0
        let intStart = i
        while i < b.count, b[i] >= 0x30, b[i] <= 0x39 {
            if digits < 19 { mantissa = mantissa * 10 + UInt64(b[i] - 0x30); if mantissa > 0 { digits += 1 } } else { exp10 += 1 }
            i += 1
        }
        guard i > intStart else { return nil }
        if i - intStart > 1, b[intStart] == 0x30 { return nil }
        if i < b.count, b[i] == UInt8(ascii: ".") {
            i += 1
            let fracStart = i
            while i < b.count, b[i] >= 0x30, b[i] <= 0x39 {
                if digits < 19 { mantissa = mantissa * 10 + UInt64(b[i] - 0x30); if mantissa > 0 { digits += 1 }; exp10 -= 1 }
                i += 1
            }
            guard i > fracStart else { return nil }
        }
        var explicitExp = 0
        if i < b.count, b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") {
            i += 1
            var expNeg = false
            if i < b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") { expNeg = b[i] == UInt8(ascii: "-"); i += 1 }
            let expStart = i
            while i < b.count, b[i] >= 0x30, b[i] <= 0x39 {
                if explicitExp < 100_000 { explicitExp = explicitExp * 10 + Int(b[i] - 0x30) }
                i += 1
            }
            guard i > expStart else { return nil }
            if expNeg { explicitExp = -explicitExp }
        }
        let e = exp10 + explicitExp
        if digits <= 15, mantissa < (1 << 53), abs(e) <= 22 {
            var v = Double(mantissa)
            v = e >= 0 ? v * Self.powersOfTen[e] : v / Self.powersOfTen[-e]
            return negative ? -v : v
        }
        if i < b.count {
            // A delimiter follows inside the buffer, so strtod stops there without a copy.
            let p = UnsafeRawPointer(b.baseAddress! + start).assumingMemoryBound(to: CChar.self)
            var end: UnsafeMutablePointer<CChar>?
            let v = strtod(p, &end)
            if Int(bitPattern: end) == Int(bitPattern: b.baseAddress! + i) { return v }
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: b[start..<i]), as: UTF8.self)
        return Double(text)
    }
}
