import Foundation
import Testing
@testable import CloudbenchPricing

/// Records parser events as text, e.g. `{ k:a s:x }`.
final class EventLog: JSONEventHandler {
    var events: [String] = []
    func startObject() { events.append("{") }
    func endObject() { events.append("}") }
    func startArray() { events.append("[") }
    func endArray() { events.append("]") }
    func key(_ u: UnsafeBufferPointer<UInt8>) { events.append("k:" + String(decoding: u, as: UTF8.self)) }
    func string(_ u: UnsafeBufferPointer<UInt8>) { events.append("s:" + String(decoding: u, as: UTF8.self)) }
    func number(_ u: UnsafeBufferPointer<UInt8>) { events.append("n:" + String(decoding: u, as: UTF8.self)) }
    func literal(_ v: Bool?) { events.append(v.map { "\($0)" } ?? "null") }
}

func events(_ text: String, chunk: Int) throws -> [String] {
    let log = EventLog()
    var parser = JSONStreamParser(handler: log)
    let bytes = Array(text.utf8)
    var i = 0
    while i < bytes.count {
        let end = min(bytes.count, i + chunk)
        try bytes[i..<end].withUnsafeBytes { try parser.feed($0) }
        i = end
    }
    try parser.finish()
    return log.events
}

@Suite struct JSONStreamParserTests {
    @Test("a string, a run of escapes or a number over 1 MiB is refused, in any chunk size; 1 MiB itself is fine")
    func tokensAreCapped() throws {
        let cap = JSONStreamParser<EventLog>.maxToken
        for chunk in [1000, 65_536] {
            #expect(try events("[\"" + String(repeating: "a", count: cap) + "\"]", chunk: chunk).count == 3)
            for text in ["[\"" + String(repeating: "a", count: cap + 1) + "\"]",
                         "[\"" + String(repeating: "\\n", count: cap + 1) + "\"]",
                         "[1" + String(repeating: "0", count: cap) + "]"] {
                #expect {
                    _ = try events(text, chunk: chunk)
                } throws: { "\($0)".contains("longer than \(cap) bytes") }
            }
        }
    }

    @Test(arguments: [
        (#"{"a": [1, -2.5e3, true, false, null], "b": {}}"#, "{ k:a [ n:1 n:-2.5e3 true false null ] k:b { } }"),
        (#"{"price": "0.0104000000", "retailPrice": 0.096}"#, "{ k:price s:0.0104000000 k:retailPrice n:0.096 }"),
        (#"["a\"b\\c\/d\n", "\u00e9\u20ac", "\ud83d\ude00", "\ud800x"]"#, "[ s:a\"b\\c/d\n s:é€ s:😀 s:\u{FFFD}x ]"),
        ("  [ ]  ", "[ ]"),
        ("0", "n:0"),
    ])
    func parsesTheSameWhateverTheChunkSize(text: String, expected: String) throws {
        for chunk in [1, 2, 3, 7, 4096] {
            #expect(try events(text, chunk: chunk).joined(separator: " ") == expected, "chunk size \(chunk)")
        }
    }

    @Test(arguments: [
        (#"{"a": 1"#, "ends in the middle"),
        (#"{"a" 1}"#, "':' was expected"),
        (#"{"a": 1,}"#, "object key was expected"),
        (#"[1 2]"#, "',' or the end"),
        (#"[01]"#, "malformed number '01'"),
        (#"[1.]"#, "malformed number"),
        (#"[tru]"#, "misspelled"),
        (#"{"a": 1} x"#, "after the end of the document"),
        (#"{"a": 1}{"#, "after the end of the document"),
        (#"["a\q"]"#, "invalid escape"),
        ("", "empty body"),
        ("<html>502 Bad Gateway</html>", "where a value was expected"),
    ])
    func rejectsMalformedJSON(text: String, fragment: String) {
        for chunk in [1, 4096] {
            do {
                _ = try events(text, chunk: chunk)
                Issue.record("accepted \(text)")
            } catch let e as PricingError {
                #expect(e.message.contains("malformed JSON at byte"), "\(e.message)")
                #expect(e.message.contains(fragment), "\(e.message)")
            } catch {
                Issue.record("unexpected \(error)")
            }
        }
    }

    @Test func numbersBecomeExactDecimals() throws {
        let node = try JSONNode.parse(#"{"a": 0.1, "b": "0.0104000000", "c": 1.2E-2, "d": "n/a"}"#)
        #expect(node["a"]?.decimal == Decimal(string: "0.1"))
        #expect(node["b"]?.decimal == Decimal(string: "0.0104"))
        #expect(node["c"]?.decimal == Decimal(string: "0.012"))
        #expect(node["d"]?.decimal == nil)
    }
}
