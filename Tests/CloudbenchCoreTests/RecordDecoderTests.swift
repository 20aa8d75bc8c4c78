import Foundation
import Testing
@testable import CloudbenchCore

@Suite("Fast record reader agrees with JSONDecoder")
struct RecordDecoderTests {
    static func fast(_ line: String) -> ResultRecord? {
        var bytes = Array(line.utf8)
        return bytes.withUnsafeMutableBufferPointer { RecordDecoder.decode(UnsafeBufferPointer($0)) }
    }

    static func slow(_ line: String) -> ResultRecord? {
        try? JSONDecoder().decode(ResultRecord.self, from: Data(line.utf8))
    }

    static let samples: [ResultRecord] = [
        ResultRecord(id: "r/p/host/tcp_bw/1", runID: "r", time: "2026-01-01T00:00:00Z", pair: "p", provider: "azure", type: "A2",
                     region: "westeurope", placement: "same-az", path: "host", test: "tcp_bw", repetition: 1, status: .ok,
                     value: 24.8, unit: "MB/s", price: Money(Decimal(string: "0.1207")!, "EUR"), source: "qperf",
                     detail: .object(["intervals": .array([.number(0.1), .number(1e-7), .number(123456789.123456789), .number(-3)]),
                                      "text": .string("tab\t \"quoted\" é ✓ \u{1F600} back\\slash"), "ok": .bool(true), "none": .null,
                                      "nested": .object(["a": .array([])])])),
        ResultRecord(id: "r/p/vxlan/tcp_lat/2#2", runID: "r", time: "t", pair: "p", provider: "aws", type: "m5.large", region: "x",
                     path: "vxlan", test: "tcp_lat", repetition: 2, status: .failed, error: "agent: timeout after 30 s"),
    ]

    @Test("records cloudbench writes read back identically either way")
    func agree() throws {
        for r in Self.samples {
            let line = try r.jsonLine()
            #expect(Self.fast(line) == r)
            #expect(Self.fast(line) == Self.slow(line))
        }
    }

    @Test("a scanner kept from line to line reads each line as a fresh one does; repeated long strings are shared")
    func reusedScanner() throws {
        var lines = try Self.samples.map { try $0.jsonLine() }
        lines.append(#"{"a":[1,{"b":[2,3]}],"x":"#)  // malformed: the scratch space is left clean for the next line
        lines += try Self.samples.map { try $0.jsonLine() }
        var scanner = JSONScanner(UnsafeBufferPointer(start: nil, count: 0))
        var decoded: [ResultRecord?] = []
        for line in lines {
            var bytes = Array(line.utf8)
            decoded.append(bytes.withUnsafeMutableBufferPointer { RecordDecoder.decode(UnsafeBufferPointer($0), scanner: &scanner) })
            #expect(scanner.members.isEmpty && scanner.elements.isEmpty)
        }
        #expect(decoded == lines.map { Self.fast($0) })
        #expect(decoded.compactMap { $0 }.count == 2 * Self.samples.count)
        // The long text value was interned; the record ids (unique) never are.
        #expect(scanner.interned.contains("agent: timeout after 30 s"))
        #expect(!scanner.interned.contains { $0?.hasPrefix("r/p/") == true })
        #expect(scanner.interned.count == JSONScanner.internSlots)
    }

    @Test("numbers are correctly rounded", arguments: ["0", "-0.5", "24.8", "0.59", "1e3", "2.5E-3", "123456789012345678901234",
                                                       "0.1234567890123456789", "1.7976931348623157e308", "5e-324", "4988600320"])
    func numbers(_ text: String) throws {
        var s = text
        let v = s.withUTF8 { b -> Double? in var sc = JSONScanner(b); return sc.number() }
        #expect(v == Double(text))
    }

    @Test("long numbers inside arrays and objects match Double(text)")
    func longNumbers() throws {
        let texts = ["0.1234567890123456789", "57.123456789012345", "-1.7976931348623157e308", "123456789012345678"]
        var json = "[" + texts.joined(separator: ",") + "]"
        let v = json.withUTF8 { b -> JSONValue? in var sc = JSONScanner(b); return sc.value() }
        #expect(v == .array(texts.map { .number(Double($0)!) }))
    }

    @Test("keys that only look like record keys are ignored, as JSONDecoder ignores them")
    func lookalikeKeys() throws {
        let good = try Self.samples[1].jsonLine()
        let line = String(good.dropLast()) + #","placemenX":"x","repetitioN":9,"Id":"other","provider2":"y"}"#
        #expect(Self.fast(line) == Self.samples[1])
        #expect(Self.fast(line) == Self.slow(line))
    }

    @Test("prices read exactly without a locale", arguments: ["0.1207", "0.007", "12", "0.00744", "1.8246", "0", "100.50"])
    func prices(_ text: String) {
        #expect(RecordDecoder.plainDecimal(text) == Money.decimal(text))
    }

    @Test("hand-written JSON with escapes, spaces and unknown keys", arguments: [
        #"{ "schema":"cloudbench-result/1", "id":"a\u00e9\ud83d\ude00", "run_id":"r","time":"t","pair":"p","provider":"x","type":"y","region":"z","path":"host","test":"tcp_bw","repetition":3,"status":"ok","value":1.5,"unit":"MB\/s","extra":[1,{"k":null}] , "placement": null }"#,
    ])
    func handWritten(_ line: String) {
        #expect(Self.fast(line) != nil)
        #expect(Self.fast(line) == Self.slow(line))
    }

    @Test("lines the fast reader refuses go to JSONDecoder", arguments: [
        #"{"schema":"cloudbench-result/1","id":"x"}"#, "garbage", #"{"a":1"#, #"{"a":01}"#, #"{"a":"\x"}"#,
        #"{"schema":"cloudbench-result/1","id":"i","run_id":"r","time":"t","pair":"p","provider":"x","type":"y","region":"z","path":"host","test":"tcp_bw","repetition":1.5,"status":"ok"}"#,
        #"{"schema":"cloudbench-result/1","id":"i","run_id":"r","time":"t","pair":"p","provider":"x","type":"y","region":"z","path":"host","test":"tcp_bw","repetition":1,"status":"maybe"}"#,
        #"{"schema":"cloudbench-result/1","id":"i","run_id":"r","time":"t","pair":"p","provider":"x","type":"y","region":"z","path":"host","test":"tcp_bw","repetition":1,"status":"ok","price":{"amount":0.1,"currency":"EUR"}}"#,
    ])
    func refused(_ line: String) {
        #expect(Self.fast(line) == nil)
        #expect(Self.slow(line) == nil)
    }
}
