import Foundation
import Testing
@testable import CloudbenchCore
@testable import CloudbenchReport

/// The report's groups (issue 20): a table per group, kept out of the pairs' tables, and the step
/// where the aggregate stops rising with the host whose link caps it.
@Suite("Groups section")
struct GroupReportTests {
    static func r(_ group: String, shape: String, step: Int, rep: Int, flows: [Double], direct: Bool = false,
                  status: ResultRecord.Status = .ok, landed: [Double]? = nil, cpu: [(String, Double)] = []) -> ResultRecord {
        var g: [String: JSONValue] = ["shape": .string(shape), "step": .number(Double(step)), "hub": .string("10.0.0.1")]
        if status == .ok {
            g["flows"] = .array(flows.map { .number($0 * 1e6) })
            g["fairness"] = HostGroup.fairness(flows).map(JSONValue.number)
        }
        if shape == "through" { g["middle"] = .string("10.0.0.9") }
        if direct { g["direct"] = .bool(true) }
        if !cpu.isEmpty { g["cpu"] = .array(cpu.map { .object(["host": .string($0.0), "busy_percent": .number($0.1)]) }) }
        if let landed {
            g["middle"] = .string("10.0.0.9:7000")
            g["external"] = .bool(true)
            if !direct { g["landed"] = .array(landed.map(JSONValue.number)) }
        }
        return ResultRecord(id: ResultRecord.makeID(runID: "g", pair: group, path: "host", test: "tcp_bw~g\(step)\(direct ? "~direct" : "")", repetition: rep),
                            runID: "g", time: "2026-12-02T10:00:00Z", pair: group, provider: "azure", type: "A2", region: "westeurope",
                            path: "host", test: "tcp_bw", repetition: rep, status: status,
                            error: status == .ok ? nil : "the group's agent failed", value: status == .ok ? flows.reduce(0, +) : nil,
                            unit: "MB/s", source: "synthetic test data", detail: .object(["group": .object(g)]))
    }

    static var records: [ResultRecord] {
        var out: [ResultRecord] = []
        for rep in 1...3 {
            let j = Double(rep) * 0.05
            out.append(r("lb", shape: "through", step: 1, rep: rep, flows: [10 + j]))
            out.append(r("lb", shape: "through", step: 2, rep: rep, flows: [11.8 + j, 11.9]))
            out.append(r("lb", shape: "through", step: 3, rep: rep, flows: [8 + j, 7.9, 7.8],
                         cpu: [("10.0.0.1", 30 + Double(rep)), ("10.0.0.2", 4), ("10.0.0.3", 5), ("10.0.0.4", 3.5)]))
            out.append(r("lb", shape: "through", step: 3, rep: rep, flows: [10, 10 + j, 9.9], direct: true))
            out.append(r("in", shape: "fan_in", step: 1, rep: rep, flows: [30 + j]))
            out.append(r("in", shape: "fan_in", step: 2, rep: rep, flows: [40 + j, 41]))
            // Through a balancer of the user's own: steps are flows, and it put them on two backends.
            out.append(r("nat", shape: "through", step: 1, rep: rep, flows: [10 + j], landed: [1, 0]))
            out.append(r("nat", shape: "through", step: 2, rep: rep, flows: [7.9 + j, 7.9], landed: [1, 1]))
            out.append(r("nat", shape: "through", step: 4, rep: rep, flows: [4 + j, 3.9, 4, 3.8], landed: rep == 1 ? [3, 1] : [2, 2]))
            out.append(r("nat", shape: "through", step: 2, rep: rep, flows: [10, 10 + j], direct: true, landed: []))
        }
        out.append(r("in", shape: "fan_in", step: 2, rep: 4, flows: [], status: .failed))
        return out
    }

    @Test("the ceiling's step and host: the middle when the backends reach more without it; none while the aggregate rises")
    func ceilings() throws {
        let sections = GroupReport.sections(records: Self.records)
        #expect(sections.map(\.name) == ["lb", "in", "nat"])
        let lb = sections[0]
        #expect(lb.steps.map(\.step) == [1, 2, 3] && lb.direct?.step == 3)
        let c = try #require(lb.ceiling)
        #expect(c.fromStep == 2 && abs(c.value - 23.8) < 0.01 && c.host == "the middle's (10.0.0.9)", "\(c)")
        #expect(sections[1].ceiling == nil && sections[1].steps[1].failed == 1)
        #expect(abs(sections[1].steps[1].flows[1] - 41) < 1e-9)
        #expect(lb.steps[2].cpu.map(\.host) == ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"] && lb.steps[2].cpu[0].busyPercent == 32)
        // Through a balancer: named as such, compared with the direct reference at the same number of flows.
        let nat = sections[2]
        #expect(nat.external && nat.steps.map(\.step) == [1, 2, 4] && nat.direct?.step == 2)
        #expect(nat.ceiling?.fromStep == 2 && nat.ceiling?.host == "the balancer's (10.0.0.9:7000)", "\(String(describing: nat.ceiling))")
        #expect(nat.steps[2].landed.map { ($0 * 100).rounded() / 100 } == [2.33, 1.67])
    }

    @Test("without the middle reaching more, the ceiling is the client's on a backend sweep, the backends' on a client sweep, nobody's on a flow sweep")
    func sharedLinks() throws {
        func record(_ name: String, stepOf: String, step: Int, value: Double, direct: Bool = false) -> ResultRecord {
            var r = Self.r(name, shape: "through", step: step, rep: 1, flows: [value], direct: direct)
            if case .object(var d)? = r.detail, case .object(var g)? = d["group"] {
                g["step_of"] = .string(stepOf)
                g["backends"] = .array([.string("10.0.0.2"), .string("10.0.0.3")])
                if stepOf == "flows" { g["external"] = .bool(true) }
                d["group"] = .object(g)
                r.detail = .object(d)
            }
            return r
        }
        var records: [ResultRecord] = []
        for (name, stepOf) in [("by-backends", "backends"), ("by-clients", "clients"), ("by-flows", "flows")] {
            records += [record(name, stepOf: stepOf, step: 1, value: 10), record(name, stepOf: stepOf, step: 2, value: 15),
                        record(name, stepOf: stepOf, step: 3, value: 15.1), record(name, stepOf: stepOf, step: 3, value: 15.2, direct: true)]
        }
        let c = GroupReport.sections(records: records).map(\.ceiling)
        #expect(c[0]?.host == "the client's (10.0.0.1)" && c[0]?.fromStep == 2, "\(String(describing: c[0]))")
        #expect(c[1]?.host == "the backends' (10.0.0.2, 10.0.0.3)" && c[1]?.plural == true, "\(String(describing: c[1]))")
        #expect(c[2]?.host == nil && c[2]?.why.hasSuffix("the clients' links or the backends'") == true, "\(String(describing: c[2]))")
    }

    @Test("the section as users publish it (golden file), and group records stay out of the pairs' tables")
    func golden() throws {
        let catalog = try Catalog.load(directory: "\(GoldenFile.root)/providers")
        let pair = ResultRecord(id: "g/p/host/tcp_bw/1", runID: "g", time: "2026-12-02T10:00:00Z", pair: "p", provider: "azure", type: "D2",
                                region: "westeurope", path: "host", test: "tcp_bw", repetition: 1, status: .ok, value: 100, unit: "MB/s",
                                source: "synthetic test data")
        let loaded = ResultStore.Loaded(records: Self.records + [pair], warnings: [], duplicates: 0)
        var options = ReportOptions()
        options.title = "groups"
        let model = ReportService.model(loaded, catalog: catalog, options: options).model
        #expect(model.footer.records == Self.records.count + 1 && model.footer.failed == 1)
        #expect(model.providers.flatMap(\.rows).map(\.key.cell.type) == ["D2"])
        let chart = try #require(ReportCharts.render(model).first { $0.kind == .groups })
        #expect(chart.svg.contains("lb (through): capped at 23.8 MB/s from 2 on") && chart.svg.contains("in (fan-in)"), "\(chart.svg)")
        // The steps as CSV beside the report's (golden: users load it), and in the JSON document.
        try GoldenFile.check(try #require(CSVRenderer.groups(model)), "groups.csv")
        #expect(CSVRenderer.groupsPath(besides: "reports/x.csv") == "reports/x-groups.csv")
        let document = ReportDocument(model)
        #expect(document.groups.map(\.name) == ["lb", "in", "nat"] && document.groups[2].stepOf == "flows" && document.groups[0].ceiling?.fromStep == 2)
        let markdown = MarkdownRenderer.render(model)
        let section = String(markdown[markdown.range(of: "## Groups")!.lowerBound...])
        try GoldenFile.check(String(section[..<(section.range(of: "\n## ", range: section.index(after: section.startIndex)..<section.endIndex)?.lowerBound ?? section.endIndex)]),
                             "groups-section.md")
    }
}
