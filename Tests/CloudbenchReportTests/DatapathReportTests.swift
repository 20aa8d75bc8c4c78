import Foundation
import Testing
import CloudbenchCore
@testable import CloudbenchReport

/// The report says what carried each path, and warns when one path's repetitions disagree.
@Suite("Datapath section")
struct DatapathReportTests {
    static func r(_ path: String, rep: Int, _ datapath: JSONValue?) -> ResultRecord {
        var detail: [String: JSONValue] = ["message_size": .number(65536)]
        if let datapath { detail["datapath"] = datapath }
        return ResultRecord(id: ResultRecord.makeID(runID: "d", pair: "p", path: path, test: "tcp_bw", repetition: rep), runID: "d",
                            time: "2026-11-20T10:00:00Z", pair: "p", provider: "azure", type: "D2s_v5", region: "westeurope",
                            path: path, test: "tcp_bw", repetition: rep, status: .ok, value: 100, unit: "MB/s",
                            source: "synthetic test data", detail: .object(detail))
    }

    static func dp(_ kind: String, _ product: String?, _ device: String, port: Double? = nil) -> JSONValue {
        .object(["kind": .string(kind), "product": product.map(JSONValue.string) ?? .null, "device": .string(device),
                 "vni": .null, "port": port.map(JSONValue.number) ?? .null, "encap_overhead_bytes": .null])
    }

    @Test("kind and product per path; a fallback between repetitions is a warning")
    func section() throws {
        let catalog = BlendedReportTests.catalog
        let records = [
            Self.r("host", rep: 1, Self.dp("native", nil, "eth0")), Self.r("host", rep: 2, Self.dp("native", nil, "eth0")),
            Self.r("weave", rep: 1, Self.dp("vxlan", "Weave", "vxlan-6784", port: 6784)),
            Self.r("weave", rep: 2, Self.dp("tun-userspace", "Weave", "weave", port: 6783)),
            Self.r("weave", rep: 3, Self.dp("vxlan", "Weave", "vxlan-6784", port: 6784)),
            Self.r("old", rep: 1, nil),
        ]
        let rows = DatapathReport.rows(records: records, catalog: catalog)
        #expect(rows.map(\.path) == ["host", "weave"])
        #expect(!rows[0].mixed && rows[1].mixed)
        let md = DatapathReport.markdown(rows)
        #expect(md.contains("| Microsoft Azure | D2s_v5 | p | host | native on eth0 |") || md.contains { $0.hasSuffix("| p | host | native on eth0 |") })
        #expect(md.contains { $0.hasSuffix("| p | weave | ⚠ vxlan (Weave) on vxlan-6784, UDP 6784 ×2; tun-userspace (Weave) on weave, UDP 6783 ×1 |") }, "\(md)")
        #expect(md.contains("- ⚠ p weave: repetitions saw different datapaths (vxlan (Weave) on vxlan-6784, UDP 6784 / tun-userspace (Weave) on weave, UDP 6783): a fallback mid-run; this path's figures mix them."))
        // Records without a datapath (older runs) add no section.
        #expect(DatapathReport.markdown(DatapathReport.rows(records: [Self.r("host", rep: 1, nil)], catalog: catalog)).isEmpty)
    }
}
