import Foundation
import Testing
import CloudbenchCore
@testable import CloudbenchReport

/// `tcp_crr` records (hand-made, labelled synthetic): their own section in connections per
/// second, with a transaction's p50 and p99 under their own names (not "RTT").
@Suite("Report of the connection-rate test")
struct ConnectionRateReportTests {
    static func rec(_ rep: Int, _ cps: Double, p50: Double, p99: Double) -> ResultRecord {
        ResultRecord(id: ResultRecord.makeID(runID: "crr", pair: "p", path: "host", test: "tcp_crr", repetition: rep),
                     runID: "crr", time: "2026-11-20T10:0\(rep):00Z", pair: "p", provider: "aws", type: "m5.large", region: "us-east-1",
                     path: "host", test: "tcp_crr", repetition: rep, status: .ok, value: cps, unit: "conn/s",
                     source: "synthetic test data",
                     detail: .object(["message_size": .number(1),
                                      "transaction_us": .object(["p50": .number(p50), "p99": .number(p99)])]))
    }

    @Test("connections/s and the transaction's p50 and p99 in µs")
    func section() {
        let records = [Self.rec(1, 4_100, p50: 230, p99: 610), Self.rec(2, 3_900, p50: 250, p99: 590)]
        let md = MarkdownRenderer.render(ReportBuilder.build(records: records, catalog: AllTestsReportTests.catalog,
                                                             options: ReportOptions(title: "crr")))
        #expect(md.contains("## TCP connection rate (`tcp_crr`)"), "\(md)")
        #expect(md.contains("| connections/s | median | CV | transaction p50 (µs) | transaction p99 (µs) |"), "\(md)")
        let row = md.split(separator: "\n").first { $0.contains("| m5.large |") && $0.contains("| 4,000") }
        #expect(row.map { $0.contains("| 240") && $0.contains("| 600") } == true, "\(md)")
        #expect(!md.contains("RTT p50"))
    }
}
