import Foundation
import Testing
import CloudbenchCore
@testable import CloudbenchReport

/// The report names the cloud limit a NIC counted during a cell, and says nothing when none grew.
@Suite("NIC limit sentence")
struct NICLimitTests {
    static func r(_ path: String, rep: Int, status: ResultRecord.Status = .ok, server: [String: Double]?, client: [String: Double]? = nil) -> ResultRecord {
        func side(_ d: [String: Double]?) -> JSONValue? {
            d.map { .object(["driver": .string("ena"), "device": .string("ens5"), "source": .string("ethtool"),
                             "deltas": .object($0.mapValues(JSONValue.number))]) }
        }
        var nic: [String: JSONValue] = [:]
        if let s = side(server) { nic["server"] = s }
        if let c = side(client) { nic["client"] = c }
        var detail: [String: JSONValue] = ["message_size": .number(64)]
        if !nic.isEmpty { detail["nic"] = .object(nic) }
        return ResultRecord(id: ResultRecord.makeID(runID: "n", pair: "p", path: path, test: "udp_bw", repetition: rep), runID: "n",
                            time: "2026-11-20T10:00:00Z", pair: "p", provider: "aws", type: "c6in.large", region: "eu-west-1",
                            path: path, test: "udp_bw", repetition: rep, status: status, value: status == .ok ? 100 : nil,
                            unit: status == .ok ? "MB/s" : nil, source: "synthetic test data", detail: .object(detail))
    }

    @Test("the allowance that grew, its packets summed, on its side; nothing when none grew")
    func sentence() throws {
        let catalog = BlendedReportTests.catalog
        let records = [
            Self.r("host", rep: 1, server: ["bw_out_allowance_exceeded": 1000, "pps_allowance_exceeded": 0, "rx_dropped": 5],
                   client: ["pps_allowance_exceeded": 0]),
            Self.r("host", rep: 2, server: ["bw_out_allowance_exceeded": 204, "pps_allowance_exceeded": 3]),
            Self.r("host", rep: 3, status: .failed, server: ["bw_out_allowance_exceeded": 99]),
            Self.r("quiet", rep: 1, server: ["bw_out_allowance_exceeded": 0, "rx_dropped": 12]),
            Self.r("old", rep: 1, server: nil),
        ]
        let limits = NICLimit.find(records: records, catalog: catalog)
        #expect(limits.map(\.counter) == ["bw_out_allowance_exceeded", "pps_allowance_exceeded"])
        #expect(limits[0].sentence == "shaped by the outbound bandwidth allowance: 1,204 packets queued or dropped on the server")
        #expect(limits[1].sentence == "shaped by the packet-rate allowance: 3 packets queued or dropped on the server")
        let md = NICLimit.markdown(limits)
        #expect(md.first == "## Limits the NICs reported")
        #expect(md.contains { $0.hasSuffix("c6in.large (p, host, udp_bw): shaped by the outbound bandwidth allowance: 1,204 packets queued or dropped on the server (every repetition).") }, "\(md)")
        #expect(md.contains { $0.hasSuffix("(p, host, udp_bw): shaped by the packet-rate allowance: 3 packets queued or dropped on the server (1 of 2 repetitions).") }, "\(md)")
        // Drops alone, counters that did not grow, failed cells and records without NIC counters: no section.
        #expect(NICLimit.markdown(NICLimit.find(records: Array(records[2...]), catalog: catalog)).isEmpty)
    }
}
