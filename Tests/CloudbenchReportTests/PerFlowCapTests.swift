import Foundation
import Testing
import CloudbenchCore
@testable import CloudbenchReport

/// A stream sweep in the report: the per-flow cap sentence when more flows reach clearly more, and
/// nothing when they do not; a searched UDP rate with its column. Records are synthetic (test only).
@Suite("per-flow caps and searched UDP rates in the report")
struct PerFlowCapTests {
    static func sweep(one: [Double], eight: [Double]) -> [ResultRecord] {
        var rs: [ResultRecord] = []
        for (streams, values) in [(1, one), (8, eight)] {
            for (i, v) in values.enumerated() {
                rs.append(AllTestsReportTests.rec("aws-m5", "D2s_v5", "host", "tcp_bw", i + 1, v, "MB/s", [
                    "direction": .string("client_to_server"), "streams": .number(Double(streams))]))
            }
        }
        return rs
    }

    static func markdown(_ records: [ResultRecord]) -> String {
        MarkdownRenderer.render(AllTestsReportTests.model(records))
    }

    @Test("8 flows at 2.4 × one flow, intervals apart: the report names the per-flow cap")
    func capFound() throws {
        let md = Self.markdown(Self.sweep(one: [49, 50, 51], eight: [119, 120, 121]))
        #expect(md.contains("- Microsoft Azure D2s_v5 (eastus, host, client → server): one flow reaches 50.0 MB/s; 8 flows reach 120 MB/s."), "\(md)")
        let caps = PerFlowCap.find(in: try #require(AllTestsReportTests.model(Self.sweep(one: [49, 50, 51], eight: [119, 120, 121])).tests.first))
        #expect(caps.count == 1 && caps[0].multi.key.setup.streams == 8)
    }

    @Test("no sentence when more flows reach under 1.25 × one flow, or when the intervals overlap")
    func noCap() {
        #expect(!Self.markdown(Self.sweep(one: [49, 50, 51], eight: [59, 60, 61])).contains("flows reach"))
        // 1.4 × on average, but one flow's repetitions spread so widely that the intervals overlap.
        #expect(!Self.markdown(Self.sweep(one: [20, 50, 80], eight: [69, 70, 71])).contains("flows reach"))
        // One stream only: nothing to compare.
        #expect(!Self.markdown(Self.sweep(one: [49, 50, 51], eight: [])).contains("Per-flow caps"))
    }

    @Test("a searched udp_bw cell: 'searched' as its offered rate and the rate found in its own column")
    func searchedRate() {
        let rs = (1...3).map { rep in
            AllTestsReportTests.rec("az-d2", "D2s_v5", "host", "udp_bw", rep, 24 + Double(rep) / 10, "MB/s", [
                "direction": .string("client_to_server"), "udp_rate": .string("search"), "loss_percent": .number(0.2),
                "target_bytes_per_second": .number(24e6 + Double(rep) * 1e5), "searched_rate_bytes_per_second": .number(24e6 + Double(rep) * 1e5),
                "jitter_us": .number(40)])
        }
        let md = Self.markdown(rs)
        #expect(md.contains("searched rate, loss < 1 % (MB/s)"), "\(md)")
        let row = md.split(separator: "\n").first { $0.contains("| host | client → server | searched |") }
        #expect(row?.contains("| 24.2 ±") == true, "\(row ?? "no row")")
        #expect(AllTestsReportTests.model(rs).tests.first?.rows.count == 1, "the repetitions' different rates split the cell")
    }
}
