/// A record's `detail` as the record holds it: the JSON text read from a results file, kept as
/// bytes and decoded only when asked for, or a value built in code.
///
/// Loading 100,000 records used to decode every `detail` into dictionaries and arrays, most of
/// the load's time, for a report that reads a few keys of each (`ResultRecord.detailView` reads
/// them in the text). `ResultRecord.detail` still gives the whole value, decoded on each access.
/// The text was checked when it was read (`JSONScanner.check`), so decoding it cannot fail.
struct RecordDetail: Hashable, Sendable, Codable {
    enum Storage: Sendable {
        case text(JSONText)
        case value(JSONValue)
    }

    let storage: Storage

    init(_ value: JSONValue) { storage = .value(value) }

    /// `text` is exactly one JSON value that `JSONScanner.check` accepted at depth 1 (the record's `detail`).
    init(checkedText text: JSONText) { storage = .text(text) }

    var value: JSONValue {
        switch storage {
        case .value(let v): return v
        case .text(let t): return JSONView(text: t, at: 0).value
        }
    }

    var view: JSONView {
        switch storage {
        case .value(let v): return JSONView(v)
        case .text(let t): return JSONView(text: t, at: 0)
        }
    }

    /// Equal when the values are: the same text, or the same value however it is written.
    static func == (a: RecordDetail, b: RecordDetail) -> Bool {
        if case .text(let x) = a.storage, case .text(let y) = b.storage, x == y { return true }
        return a.value == b.value
    }

    func hash(into hasher: inout Hasher) { hasher.combine(value) }

    init(from decoder: Decoder) throws { storage = .value(try JSONValue(from: decoder)) }

    func encode(to encoder: Encoder) throws { try value.encode(to: encoder) }
}
