import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
import CloudbenchCore
@testable import CloudbenchReport

/// Hand-made records (labelled synthetic, for the test only) of every test type, shaped like the
/// agent's JSON: per-second intervals (one with a drop, one with a stall), RTT percentiles, UDP
/// loss at two offered rates, datagrams and connections per second, HTTP times per connection
/// mode, CPU per GB and steal.
@Suite("Report of every test type: sections, CSV and charts")
struct AllTestsReportTests {
    static let catalog = try! Catalog.load(directory: TestPaths.providers)

    static func rec(_ pair: String, _ type: String, _ path: String, _ test: String, _ rep: Int, _ value: Double?, _ unit: String,
                    _ detail: [String: JSONValue]) -> ResultRecord {
        ResultRecord(id: ResultRecord.makeID(runID: "all-tests", pair: pair, path: path, test: test, repetition: rep) + "/\(detail["direction"]?.string ?? "")\(detail["streams"]?.double ?? 0)\(detail["target_bytes_per_second"]?.double ?? 0)",
                     runID: "all-tests", time: "2026-03-01T10:0\(rep):00Z", pair: pair, provider: "azure", type: type,
                     region: "eastus", placement: "same-zone", path: path, test: test, repetition: rep,
                     status: value == nil ? .failed : .ok, error: value == nil ? "server did not answer within 30 s" : nil,
                     value: value, unit: unit, source: "synthetic test data",
                     detail: value == nil ? nil : .object(detail))
    }

    static func intervals(_ rates: [Double]) -> JSONValue {
        .array(rates.enumerated().map { i, r in
            .object(["start_s": .number(Double(i)), "end_s": .number(Double(i + 1)), "bytes": .number(r * 1e6),
                     "bytes_per_second": .number(r * 1e6)])
        })
    }

    static func percentiles(_ p50: Double, _ p95: Double, _ p99: Double, _ p999: Double) -> JSONValue {
        .object(["p50": .number(p50), "p90": .number(p50 * 1.2), "p95": .number(p95), "p99": .number(p99), "p999": .number(p999)])
    }

    static func cpu(_ perGB: Double, _ steal: Double) -> JSONValue {
        .object(["client": .object(["cpu_seconds_per_gigabyte": .number(perGB), "steal_percent": .number(steal)]),
                 "server": .object(["cpu_seconds_per_gigabyte": .number(perGB * 1.5), "steal_percent": .number(steal / 2)])])
    }

    static let records: [ResultRecord] = {
        var rs: [ResultRecord] = []
        for (type, pair, scale) in [("D2s_v5", "az-d2", 1.0), ("D4s_v5", "az-d4", 2.0)] {
            for rep in 1...3 {
                let j = Double(rep - 2)
                for (path, pf) in [("host", 1.0), ("vxlan", 0.8)] {
                    // tcp_bw: two directions, 1 and 4 streams; D2s_v5's vxlan repetition 2 drops, D4s_v5's host repetition 3 stalls.
                    for (dir, streams, df) in [("client_to_server", 1, 1.0), ("server_to_client", 1, 0.95), ("client_to_server", 4, 1.1)] {
                        let v = 100 * scale * pf * df + j * 2
                        var series = Array(repeating: v, count: 8)
                        if type == "D2s_v5", path == "vxlan", rep == 2, streams == 1, dir == "client_to_server" { series[4] = v * 0.3 }
                        if type == "D4s_v5", path == "host", rep == 3, streams == 4 { series[5] = 0 }
                        rs.append(rec(pair, type, path, "tcp_bw", rep, v, "MB/s", [
                            "direction": .string(dir), "streams": .number(Double(streams)), "message_size": .number(65536),
                            "interval_s": .number(1), "intervals": intervals(series), "retransmits": .number(10 * pf + j),
                            "cpu": cpu(2.0 / scale + j * 0.1, 0.5 + j * 0.1)]))
                    }
                    let lat = 40 / scale / pf + j
                    rs.append(rec(pair, type, path, "tcp_lat", rep, lat, "us", [
                        "message_size": .number(1), "latency_us": .number(lat),
                        "rtt_us": percentiles(lat * 2 - 1, lat * 2.5, lat * 3 + j, lat * 5 + j)]))
                }
                // udp_bw at two offered rates: loss rises at the higher one.
                for (rate, loss) in [(50.0, 0.2), (200.0, 4.0 / scale)] {
                    let got = min(rate, 150 * scale) * (1 - loss / 100) + j
                    rs.append(rec(pair, type, "host", "udp_bw", rep, got, "MB/s", [
                        "direction": .string("client_to_server"), "streams": .number(1), "message_size": .number(1400),
                        "target_bytes_per_second": .number(rate * 1e6), "loss_percent": .number(loss + j * 0.1),
                        "sender_bytes_per_second": .number(rate * 1e6), "jitter_us": .number(30 + j)]))
                }
                // udp_pps: 64-byte datagrams offered at 50,000/s per scale; a little is lost.
                let offered = 50_000 * scale, pps = 48_000 * scale + j * 300
                rs.append(rec(pair, type, "host", "udp_pps", rep, pps, "pps", [
                    "direction": .string("client_to_server"), "streams": .number(1), "message_size": .number(64),
                    "target_packets_per_second": .number(offered), "loss_percent": .number(100 * (1 - pps / offered)),
                    "cpu": cpu(3.0 / scale + j * 0.1, 0.4)]))
                // tcp_crr: connections per second, a transaction's p50 and p99.
                let cps = 4_000 * scale + j * 50
                rs.append(rec(pair, type, "host", "tcp_crr", rep, cps, "conn/s", [
                    "message_size": .number(1),
                    "transaction_us": .object(["p50": .number((1e6 / cps * 0.9).rounded()), "p99": .number((1e6 / cps * 2.5).rounded())])]))
                // http: a 200 kB object; a new connection costs a handshake more.
                let t = 2.0 / scale + j * 0.1
                rs.append(rec(pair, type, "host", "http", rep, t, "ms", [
                    "size": .number(200_000), "count": .number(50),
                    "reuse": .object(["total_us": percentiles(t * 1000, t * 1400, t * 1600, t * 2000)]),
                    "new_connection": .object(["total_us": percentiles(t * 1500, t * 2100, t * 2500, t * 3000)])]))
            }
        }
        // One failed http repetition: counted, never averaged.
        rs.append(rec("az-d2", "D2s_v5", "host", "http", 4, nil, "ms", [:]))
        return rs
    }()

    static func model(_ records: [ResultRecord] = records) -> ReportModel {
        ReportBuilder.build(records: records, catalog: catalog, options: ReportOptions(title: "Every test"))
    }

    static func files(_ m: ReportModel) -> [String: String] {
        var out: [String: String] = [:]
        ReportFiles.write(m, markdownPath: "all-tests.md") { text, path in out[path] = text }
        return out
    }

    @Test("markdown, CSV and every chart match the golden files")
    func golden() throws {
        let files = Self.files(Self.model())
        // Every chart of pairs' records (a group's is GroupReportTests').
        #expect(Set(files.keys) == Set(["all-tests.md"] + ReportCharts.Kind.allCases.filter { $0 != .groups }.map { "all-tests-\($0.rawValue).svg" }))
        for (path, text) in files { try GoldenFile.check(text, path) }
        try GoldenFile.check(CSVRenderer.render(Self.model()), "all-tests.csv")
    }

    @Test("the same records read back from a results file (each detail kept as text) give the golden files' bytes",
          arguments: [true, false])
    func goldenFromFile(sortedKeys: Bool) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = sortedKeys ? [.sortedKeys, .withoutEscapingSlashes] : [.withoutEscapingSlashes]
        let lines = try Self.records.map { String(decoding: try encoder.encode($0), as: UTF8.self) + "\n" }.joined()
        let loaded = ResultStore.load(data: Data(lines.utf8), name: "all-tests.jsonl")
        #expect(loaded.warnings.isEmpty && loaded.records == Self.records)
        let m = Self.model(loaded.records)
        for (path, text) in Self.files(m) { try GoldenFile.check(text, path) }
        try GoldenFile.check(CSVRenderer.render(m), "all-tests.csv")
    }

    @Test("a section per test, with what each measures")
    func sections() throws {
        let md = Self.files(Self.model())["all-tests.md"]!
        // tcp_bw per direction and stream count: 3 repetitions 98, 100, 102 → 100 ± 4.97.
        #expect(md.contains("## TCP throughput (`tcp_bw`) per direction and stream count"))
        #expect(md.contains("| Microsoft Azure | D2s_v5 | eastus | same-zone | host | client → server | 1 | 3 | 100 ± 5.0 | 100 | 2.0 % | 10.0 ± 2.5 | 2.00 ± 0.25 | 3.00 ± 0.37 | 0.500 ± 0.25 | 0.250 ± 0.12 |"))
        #expect(md.contains("| Microsoft Azure | D2s_v5 | eastus | same-zone | host | server → client | 1 | 3 |"))
        #expect(md.contains("| Microsoft Azure | D2s_v5 | eastus | same-zone | host | client → server | 4 | 3 |"))
        // tcp_lat: one-way (RTT/2) and RTT percentiles in separate, labelled columns.
        #expect(md.contains("RTT p50 (µs)") && md.contains("RTT p99 (µs)") && md.contains("RTT p99.9 (µs)"))
        #expect(md.contains("one-way latency, RTT/2 (µs)"))
        #expect(md.contains("| Microsoft Azure | D2s_v5 | eastus | same-zone | host | 3 | 40.0 ± 2.5 | 40.0 | 2.5 % | 79.0 ± 5.0 | 120 ± 9.9 | 200 ± 15 |"))
        // udp_bw: loss, jitter and the highest rate under 1 % loss (50 MB/s: 200 loses 4 % on D2s_v5).
        #expect(md.contains("| Microsoft Azure | D2s_v5 | eastus | same-zone | host | client → server | 200 | 3 | 144 ± 2.5 | 144 | 0.69 % | 4.00 ± 0.25 | 30.0 ± 2.5 | 200 ± 0 | 50.0 |"))
        #expect(md.contains("loss (%)") && md.contains("jitter (µs)") && md.contains("highest rate with loss < 1 % (MB/s)"))
        // http: reused and new connection apart, median and p95, object size; the failed repetition counted.
        #expect(md.contains("| Microsoft Azure | D2s_v5 | eastus | same-zone | host | 200 kB | 3 | 2.00 ± 0.25 (1 failed[^failed]) | 2.80 ± 0.35 | 3.00 ± 0.37 | 4.20 ± 0.52 |"))
        #expect(md.contains("| reused: median (ms) | reused: p95 (ms) | new connection: median (ms) | new connection: p95 (ms) |"))
        #expect(md.contains("| Microsoft Azure | D4s_v5 | eastus | same-zone | host | 200 kB | 3 | 1.00 ± 0.25 | 1.40 ± 0.35 | 1.50 ± 0.37 | 2.10 ± 0.52 |"))
        // udp_pps in datagrams/s with its payload and offer; tcp_crr in connections/s with a transaction's p50 and p99.
        #expect(md.contains("## UDP packet rate (`udp_pps`)") && md.contains("## TCP connection rate (`tcp_crr`)"))
        #expect(md.contains("| received (datagrams/s) | median | CV |"))
        #expect(md.contains("| connections/s | median | CV | transaction p50 (µs) | transaction p99 (µs) |"))
        // The timelines: a drop and a stall named.
        #expect(md.contains("| Microsoft Azure | D2s_v5 | eastus | vxlan | 1 stream, client → server, 64 KiB messages | az-d2 | 2 | drop | 30 % of the median |"))
        #expect(md.contains("| stall | 0 % of the median |"))
        // Charts linked beside the markdown.
        for kind in ReportCharts.Kind.allCases where kind != .groups { #expect(md.contains("](all-tests-\(kind.rawValue).svg)")) }
    }

    @Test("a section appears only for a test with records")
    func onlyMeasured() {
        let md = MarkdownRenderer.render(Self.model(Self.records.filter { $0.test == "tcp_bw" }))
        #expect(md.contains("## TCP throughput (`tcp_bw`)"))
        #expect(!md.contains("`tcp_lat`") && !md.contains("`udp_bw`") && !md.contains("`http`"))
        let charts = ReportCharts.render(Self.model(Self.records.filter { $0.test == "http" }))
        #expect(charts.isEmpty)
    }

    @Test("the CSV carries every test's figures")
    func csv() throws {
        let csv = CSVRenderer.render(Self.model())
        let lines = csv.split(separator: "\n").map(String.init)
        let table = CSVTable.parse(csv).map(\.fields)
        let header = table[0]
        for column in ["test", "rtt_p99_us", "loss_pct", "jitter_us", "reused_p95_ms", "new_p50_ms", "udp_offered", "http_object_bytes",
                       "cpu_client_s_per_gb", "steal_client_pct", "udp_highest_rate_loss_under_1pct"] {
            #expect(header.contains(column), "missing column \(column)")
        }
        #expect(table.count == lines.count && table.allSatisfy { $0.count == header.count })
        #expect(lines.contains { $0.contains(",udp_bw,") } && lines.contains { $0.contains(",http,") })
        // The rate tests in their own units, never scaled as bytes: datagrams/s and connections/s.
        let column = Dictionary(uniqueKeysWithValues: header.enumerated().map { ($1, $0) })
        func rows(_ test: String) -> [[String]] { table.dropFirst().filter { $0[column["test"]!] == test } }
        let pps = rows("udp_pps"), crr = rows("tcp_crr")
        #expect(pps.count == 2 && crr.count == 2, "one row per instance type: \(pps) \(crr)")
        for r in pps {
            #expect(r[column["throughput_unit"]!] == "pps" && r[column["throughput_n"]!] == "3")
            #expect(["50000", "100000"].contains(r[column["udp_offered"]!]) && Double(r[column["throughput"]!])! > 40_000)
            #expect(Double(r[column["loss_pct"]!]).map { $0 > 0 && $0 < 10 } == true)
        }
        for r in crr {
            #expect(r[column["throughput_unit"]!] == "conn/s" && [4000, 8000].contains(Double(r[column["throughput"]!])!))
            #expect(Double(r[column["rtt_p99_us"]!])! > Double(r[column["rtt_p50_us"]!])!)
        }
    }

    @Test("every chart is well-formed XML with axis labels and no scripts")
    func chartsParse() throws {
        for chart in ReportCharts.render(Self.model()) {
            let delegate = SVGCheck()
            let parser = XMLParser(data: Data(chart.svg.utf8))
            parser.delegate = delegate
            #expect(parser.parse(), "\(chart.kind) does not parse: \(parser.parserError.map { "\($0)" } ?? "")")
            #expect(delegate.elements.first == "svg")
            #expect(!delegate.elements.contains("script") && !chart.svg.contains("href"))
            let text = delegate.texts.joined()
            let axes: [ReportCharts.Kind: [String]] = [
                .ranking: ["throughput per price (MB/s per $/h)"], .throughput: ["throughput (MB/s)"],
                .penalty: ["change versus host (%)"], .latency: ["round-trip time (µs)"],
                .timeline: ["throughput (MB/s)", "time since the end of the warm-up (s)"],
            ]
            for label in axes[chart.kind]! { #expect(text.contains(label), "\(chart.kind) lacks the axis label \(label)") }
            // A legend names the series when there are several.
            if chart.kind == .throughput { #expect(text.contains("host") && text.contains("vxlan")) }
            if chart.kind == .latency { #expect(text.contains("RTT p50") && text.contains("RTT p99")) }
        }
    }

    @Test("same records in any order give the same bytes")
    func deterministic() {
        var g = SplitMix(seed: 11)
        let a = Self.files(Self.model()), b = Self.files(Self.model(Self.records.shuffled(using: &g)))
        #expect(a == b)
    }
}

/// Collects element names and text of an SVG.
final class SVGCheck: NSObject, XMLParserDelegate {
    var elements: [String] = []
    var texts: [String] = []
    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        elements.append(name)
    }
    func parser(_ parser: XMLParser, foundCharacters string: String) { texts.append(string) }
}
