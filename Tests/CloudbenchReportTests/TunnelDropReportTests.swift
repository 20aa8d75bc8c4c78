import Foundation
import Testing
import CloudbenchCore
@testable import CloudbenchReport

/// The report says when a path's user-space tunnel dropped datagrams, and says nothing otherwise.
@Suite("Tunnel drops line")
struct TunnelDropReportTests {
    static func r(_ path: String, rep: Int, status: ResultRecord.Status = .ok,
                  client: [String: Double]?, server: [String: Double]? = nil) -> ResultRecord {
        func side(_ counts: [String: Double]?) -> JSONValue? {
            counts.map { c in .object(c.mapValues(JSONValue.number).merging(["packets_out": .number(1000), "cpu_s": .number(0.3)]) { a, _ in a }) }
        }
        var detail: [String: JSONValue] = ["message_size": .number(65536)]
        if client != nil || server != nil {
            var t: [String: JSONValue] = [:]
            t["client"] = side(client)
            t["server"] = side(server) ?? .object(["absent": .string("the agent on this host sent no tunnel counts")])
            detail["tunnel"] = .object(t)
        }
        return ResultRecord(id: ResultRecord.makeID(runID: "t", pair: "p", path: path, test: "tcp_bw", repetition: rep), runID: "t",
                            time: "2026-11-20T10:00:00Z", pair: "p", provider: "azure", type: "D2s_v5", region: "westeurope",
                            path: path, test: "tcp_bw", repetition: rep, status: status, value: status == .ok ? 100 : nil,
                            unit: "MB/s", source: "synthetic test data", detail: .object(detail))
    }

    static let zero = ["dropped_bad_tag": 0.0, "dropped_replay": 0, "dropped_wrong_source": 0]

    @Test("a line per path whose tunnel dropped any datagram, both sides summed, with the records that saw drops")
    func line() {
        let records = [
            Self.r("udp", rep: 1, client: Self.zero, server: Self.zero),
            Self.r("udp", rep: 2, client: ["dropped_bad_tag": 3, "dropped_replay": 1, "dropped_wrong_source": 0],
                   server: ["dropped_bad_tag": 0, "dropped_replay": 0, "dropped_wrong_source": 2]),
            Self.r("udp", rep: 3, client: Self.zero),
            // A failed record's counts are not the cell's.
            Self.r("udp", rep: 4, status: .failed, client: ["dropped_bad_tag": 50, "dropped_replay": 0, "dropped_wrong_source": 0]),
            Self.r("host", rep: 1, client: nil),
        ]
        let rows = TunnelDropReport.rows(records: records)
        #expect(rows == [TunnelDropRow(pair: "p", path: "udp", records: 3, recordsWithDrops: 1, badTag: 3, replay: 1, wrongSource: 2)])
        #expect(TunnelDropReport.markdown(rows) == [
            "- ⚠ p udp: the user-space tunnel dropped 6 datagrams in 1 of 3 records (bad tag 3, replayed 1, wrong source 2): "
                + "datagrams that were not its peer's reached its port, or the network altered them; they were not forwarded.",
            "",
        ])
    }

    @Test("no drops, or no tunnel counts at all: no line, and the rest of the report is as before")
    func silent() {
        let quiet = [Self.r("udp", rep: 1, client: Self.zero, server: Self.zero), Self.r("host", rep: 1, client: nil)]
        #expect(TunnelDropReport.rows(records: quiet).isEmpty)
        #expect(TunnelDropReport.markdown([]).isEmpty)
        // Nonsense counts (negative, not numbers) are not drops.
        #expect(TunnelDropReport.rows(records: [Self.r("udp", rep: 1, client: ["dropped_bad_tag": -4, "dropped_replay": .nan,
                                                                                "dropped_wrong_source": 0])]).isEmpty)
    }

    @Test("the line sits in the rendered report")
    func rendered() {
        let records = [Self.r("udp", rep: 1, client: ["dropped_bad_tag": 1, "dropped_replay": 0, "dropped_wrong_source": 0])]
        var m = ReportBuilder.build(records: records, catalog: BlendedReportTests.catalog, options: ReportOptions(title: "T"))
        m.tunnelDrops = TunnelDropReport.rows(records: records)
        #expect(MarkdownRenderer.render(m).contains("- ⚠ p udp: the user-space tunnel dropped 1 datagram in 1 of 1 record (bad tag 1,"))
    }
}
