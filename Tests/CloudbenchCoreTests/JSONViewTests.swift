import Foundation
import Testing
@testable import CloudbenchCore

@Suite("A record's detail kept as text reads as the decoded value does")
struct JSONViewTests {
    /// The view over the text of `json`, as a record read from a file holds it.
    static func textView(_ json: String) -> JSONView {
        let bytes = Array(json.utf8)
        return bytes.withUnsafeBufferPointer { b in
            var s = JSONScanner(b)
            s.depth = 1
            precondition(s.check(indexing: true) && s.i == b.count, "not one JSON value: \(json)")
            return JSONView(text: JSONText(b, index: s.index, keysSorted: s.keysSorted), at: 0)
        }
    }

    static let texts = [
        #"{"a":1,"b":{"c":[1,2,{"d":"x"}],"e":null},"f":true,"g":"tab\t \"q\" é ✓ \ud83d\ude00","h":[],"i":{}}"#,
        // A repeated key: the last one counts, as in `JSONValue`.
        #"{"k":1,"n":{"k":"inner"},"k":2,"z":[{"k":3}],"k":{"deep":[4,5]}}"#,
        // Escaped and non-ASCII keys compare as strings; white space anywhere.
        #" { "stre\u0061ms" : 8 , "caf\u00e9" : "1" , "café2" : [ 1 , 2 , 3 ] , "sl\/ash" : -0.5e-3 , "q\"k" : 7 } "#,
        #"[1,"two",{"three":3},[4],null,false]"#,
        #"{"intervals":[{"start_s":0,"end_s":1,"bytes_per_second":1.5e8},{"start_s":1,"end_s":2,"bytes_per_second":123456789012345678901}]}"#,
        // Keys sorted as cloudbench writes them: lookups stop at the first key at or past theirs.
        #"{"":0,"a":{"b":1,"c":[{"d":2,"e":3}]},"b2":"x","c":{"p50":1,"p95":2,"p99":3,"p999":4},"k":5,"n":{"k":"inner"}}"#,
    ]
    static let keys = [["a"], ["b", "c"], ["b", "e"], ["b", "c", "x"], ["k"], ["k", "deep"], ["n", "k"], ["streams"], ["café"],
                       ["cafe\u{301}"], ["café2"], ["sl/ash"], ["q\"k"], ["g"], ["h"], ["i"], ["missing"], ["intervals"], ["f"],
                       [""], ["a", "a"], ["a", "bb"], ["a", "c"], ["c", "p9"], ["c", "p99"], ["c", "p999"], ["c", "p9999"], ["c", "p5"],
                       ["\u{212A}"], ["zz"]]

    /// Everything a view says about a value, to compare the two kinds of view.
    static func describe(_ v: JSONView?) -> String {
        guard let v else { return "absent" }
        var elements: [String] = []
        let isArray = v.forEachElement { elements.append(describe($0)); return true }
        return "\(String(describing: v.double)) \(String(describing: v.string)) \(v.isObject) \(v.isArray) \(isArray) [\(elements.joined(separator: ", "))]"
    }

    /// The tree the record reader built for a `detail` before it was kept as text. (Where an
    /// object repeats a key, it keeps the last one; `JSONDecoder`, for lines the reader refuses, the first.)
    static func decoded(_ json: String) throws -> JSONValue {
        var text = json
        return try #require(text.withUTF8 { b -> JSONValue? in
            var s = JSONScanner(b)
            s.depth = 1
            return s.value()
        })
    }

    @Test("every lookup over the text gives what the same lookup over the decoded value gives", arguments: texts)
    func agrees(_ json: String) throws {
        let tree = JSONView(try Self.decoded(json))
        let text = Self.textView(json.trimmingCharacters(in: .whitespaces))
        #expect(text.value == (try Self.decoded(json)))
        for path in Self.keys {
            var a: JSONView? = tree, b: JSONView? = text
            for k in path {
                a = a?[k]
                b = b?[k]
            }
            #expect(Self.describe(a) == Self.describe(b), "\(path)")
            #expect(a?.value == b?.value, "\(path)")
        }
    }

    @Test("text whose keys are sorted, plain and unique is marked so; any other is not")
    func sortedKeys() {
        func sorted(_ json: String) -> Bool {
            let bytes = Array(json.utf8)
            return bytes.withUnsafeBufferPointer { b in
                var s = JSONScanner(b)
                return s.check(indexing: true) && s.keysSorted
            }
        }
        #expect(sorted(Self.texts[5]) && sorted("[1,{\"a\":1,\"b\":[{\"a\":2}]}]") && sorted("{}"))
        #expect(!sorted(#"{"b":1,"a":2}"#) && !sorted(#"{"a":1,"a":2}"#) && !sorted(#"{"a":{"y":1,"x":2}}"#) && !sorted(#"{"a\u0062":1}"#)
                 && !sorted(#"{"é":1}"#) && !sorted(#"{"ab":1,"a":2}"#))
        #expect(sorted(Self.texts[0]) && !sorted(Self.texts[1]) && !sorted(Self.texts[2]) && !sorted(Self.texts[4]))
    }

    @Test("the last of a repeated key, escaped keys and canonically equal keys are found")
    func lookups() {
        let v = Self.textView(Self.texts[1])
        #expect(v["k"]?["deep"]?.value == .array([.number(4), .number(5)]))
        #expect(v["n"]?["k"]?.string == "inner")
        let w = Self.textView(Self.texts[2].trimmingCharacters(in: .whitespaces))
        #expect(w["streams"]?.double == 8)
        #expect(w["cafe\u{301}"]?.string == "1")  // é written as e + combining accent: the same key
        #expect(w["sl/ash"]?.double == -0.5e-3 && w["q\"k"]?.double == 7)
        var seen: [Double] = []
        let isArray = w["café2"]?.forEachElement { seen.append($0.double ?? -1); return seen.count < 2 }
        #expect(isArray == true && seen == [1, 2])
        #expect(w["streams"]?.forEachElement { _ in true } == false)
    }

    @Test("the checker accepts exactly what the decoder accepts, and stops where it stops", arguments: [
        "1", "-0", "01", "1.", ".5", "1e", "-", "1.5e+3", "true", "tru", "nul", "null", #""a""#, #""\x""#, #""\u12""#,
        #""\ud800""#, #""\udc00""#, #""\ud83d\ude00""#, #""\ud83d\u0041""#, "\"a\u{1}b\"", #"{"a":1,}"#, "[1,]", "[1 2]",
        #"{"a" 1}"#, #"{1:2}"#, "{}", "[]", "[[[]]]", "{\"a\":[1,{\"b\":null}]} ", #"{"a":"b"#, "[",
        String(repeating: "[", count: 63) + String(repeating: "]", count: 63),
        String(repeating: "[", count: 64) + String(repeating: "]", count: 64),
    ])
    func checker(_ json: String) {
        var text = json
        text.withUTF8 { b in
            var decoding = JSONScanner(b), checking = JSONScanner(b)
            decoding.depth = 1
            checking.depth = 1
            let decoded = decoding.value()
            #expect(checking.check() == (decoded != nil), "\(json)")
            if decoded != nil { #expect(checking.i == decoding.i) }
        }
    }

    static let record = ResultRecord(
        id: "r/p/host/tcp_bw/1", runID: "r", time: "2026-01-01T00:00:00Z", pair: "p", provider: "azure", type: "A2",
        region: "westeurope", path: "host", test: "tcp_bw", repetition: 1, status: .ok, value: 24.8, unit: "MB/s",
        detail: .object(["interval_s": .number(1), "streams": .number(4), "direction": .string("server_to_client"),
                         "intervals": .array([.object(["start_s": .number(0), "end_s": .number(1), "bytes_per_second": .number(2e7)])]),
                         "note": .string("é \"quoted\"")]))

    static func read(_ line: String) -> ResultRecord? {
        var bytes = Array(line.utf8)
        return bytes.withUnsafeMutableBufferPointer { RecordDecoder.decode(UnsafeBufferPointer($0)) }
    }

    @Test("a record read from its line keeps detail as text: equal, same hash, same line written back")
    func record() throws {
        let line = try Self.record.jsonLine()
        let read = try #require(Self.read(line))
        guard case .text? = read.storedDetail?.storage else { Issue.record("detail was decoded while reading"); return }
        #expect(read == Self.record && read.detail == Self.record.detail)
        #expect(read.hashValue == Self.record.hashValue && Set([read, Self.record]).count == 1)
        #expect(try read.jsonLine() == line)
        #expect(read.detailView?["streams"]?.double == 4 && read.detailView?["direction"]?.string == "server_to_client")
        #expect(TestSetup.of(test: "tcp_bw", view: read.detailView) == TestSetup.of(test: "tcp_bw", detail: Self.record.detail))
        #expect(ThroughputTimeline(view: read.detailView) == ThroughputTimeline(intervalSeconds: 1, rates: [2e7]))
        var changed = read
        changed.detail = .object(["streams": .number(1)])
        #expect(changed != read && changed.detailView?["streams"]?.double == 1)
    }

    @Test("a null detail is no detail; a detail the decoder would refuse sends the line to JSONDecoder")
    func nullAndRefused() throws {
        var plain = Self.record
        plain.detail = nil
        let line = try plain.jsonLine()
        let withNull = String(line.dropLast()) + #","detail" : null}"#
        #expect(Self.read(withNull) == plain && Self.read(withNull)?.storedDetail == nil)
        for bad in [#"{"a":01}"#, #"{"a":"\ud800"}"#, #"{"a":[1,]}"#, String(repeating: "[", count: 64) + String(repeating: "]", count: 64)] {
            #expect(Self.read(String(line.dropLast()) + #","detail":"# + bad + "}") == nil, "\(bad)")
        }
    }
}
