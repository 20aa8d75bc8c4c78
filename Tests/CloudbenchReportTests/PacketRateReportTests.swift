import Foundation
import Testing
import CloudbenchCore
@testable import CloudbenchReport

/// `udp_pps` records (hand-made, labelled synthetic): their own section in datagrams per second,
/// apart by payload and offered rate, and the packet-rate allowance named when its counter grew.
@Suite("Report of the packet-rate test")
struct PacketRateReportTests {
    static func rec(_ rep: Int, _ pps: Double, _ detail: [String: JSONValue]) -> ResultRecord {
        let searched = detail["udp_rate"]?.string == "search"
        return ResultRecord(id: ResultRecord.makeID(runID: "pps", pair: "p", path: "host", test: searched ? "udp_pps~search" : "udp_pps",
                                                    repetition: rep),
                            runID: "pps", time: "2026-11-20T10:0\(rep):00Z", pair: "p", provider: "aws", type: "m5.large", region: "us-east-1",
                            path: "host", test: "udp_pps", repetition: rep, status: .ok, value: pps, unit: "pps",
                            source: "synthetic test data", detail: .object(detail))
    }

    static let records: [ResultRecord] = [
        rec(1, 49_800, ["message_size": .number(64), "target_packets_per_second": .number(50_000), "loss_percent": .number(0.2)]),
        rec(2, 49_900, ["message_size": .number(64), "target_packets_per_second": .number(50_000), "loss_percent": .number(0.1)]),
        rec(1, 19_700, ["message_size": .number(64), "udp_rate": .string("search"), "loss_percent": .number(0.3),
                        "searched_rate_packets_per_second": .number(19_700),
                        "nic": .object(["client": .object(["driver": .string("ena"), "device": .string("eth0"), "source": .string("ethtool"),
                                                           "deltas": .object(["pps_allowance_exceeded": .number(41_234)])])])]),
    ]

    @Test("a section in datagrams/s: payload, offered rate or 'searched', received, loss; the pps allowance named")
    func section() throws {
        var model = ReportBuilder.build(records: Self.records, catalog: AllTestsReportTests.catalog, options: ReportOptions(title: "pps"))
        // As ReportService does.
        model.nicLimits = NICLimit.find(records: Self.records, catalog: AllTestsReportTests.catalog)
        let md = MarkdownRenderer.render(model)
        #expect(md.contains("## UDP packet rate (`udp_pps`)"), "\(md)")
        #expect(md.contains("| received (datagrams/s) | median | CV |"), "\(md)")
        let rows = md.split(separator: "\n").filter { $0.contains("| 64-byte |") }
        #expect(rows.count == 2, "the fixed rate and the search are two cells: \(rows)")
        #expect(rows.contains { $0.contains("| client → server | 64-byte | 50,000 |") && $0.contains("| 49,850") }, "\(rows)")
        #expect(rows.contains { $0.contains("| client → server | 64-byte | searched |") && $0.contains("| 19,700") }, "\(rows)")
        #expect(md.contains("m5.large (p, host, udp_pps): shaped by the packet-rate allowance: 41,234 packets queued or dropped on the client"), "\(md)")
        // Never in MB/s: the value's unit is datagrams per second.
        #expect(!rows.contains { $0.contains("0.0498") })
    }
}
