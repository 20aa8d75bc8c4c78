import Foundation
import Testing
import NetNS

/// Issue 20 on the lab (`Fixtures/groups-lab.yaml`, groups written over its instances): fan-in to
/// a host shaped at R gives R's goodput shared fairly; a through group whose middle is slower than
/// its backends together stops rising at the middle's goodput, and the report names the middle.
@Suite("groups: fan-in, fan-out and through a middle on the lab", .enabled(if: getuid() == 0, "needs root for the lab"), .serialized)
struct GroupLabTests {
    /// The groups over the lab's instances (`10.231.THIRD.N`).
    static func groups(third: Int) -> String {
        func host(_ n: Int) -> String { "{ address: 10.231.\(third).\(n) }" }
        return """
        groups:
          - name: fan-in-mid
            shape: fan_in
            provider: azure
            type: A2
            region: westeurope
            server: \(host(10))
            clients: [\(host(16)), \(host(17)), \(host(11))]
          - name: lb-mid
            shape: through
            provider: azure
            type: A2
            region: westeurope
            clients: [\(host(16))]
            middle: \(host(11))
            backends: [\(host(12)), \(host(13)), \(host(14))]
            sweep: { backends: [1, 2, 3] }
          - name: fan-out-fast
            shape: fan_out
            provider: azure
            type: D2
            region: westeurope
            client: \(host(17))
            servers: [\(host(12)), \(host(14))]

        """
    }

    @Test("fan-in of 3 within 3 % of the server's goodput, fairness > 0.9; through stops at the middle's goodput and names it")
    func groupsOnTheLab() throws {
        let third = 196
        let lab = try LabRun(tag: "g", third: third, profile: "groups-lab") { generated in
            // The groups replace the pairs: every instance is a group's host.
            String(generated[..<generated.range(of: "pairs:\n")!.lowerBound]) + Self.groups(third: third)
        }
        defer { lab.down() }
        let r = try lab.compare(["--parallel", "1"])
        #expect(r.status == 0, "\(r.stdout)\n\(r.stderr)")
        let records = try lab.records()
        #expect(records.count == 1 + 3 + 1 + 1, "\(records.map { $0["id"] ?? "" })")
        #expect(records.allSatisfy { $0["status"] as? String == "ok" }, "\(records.compactMap { $0["error"] })")
        func group(_ r: [String: Any]) -> [String: Any] { (r["detail"] as? [String: Any])?["group"] as? [String: Any] ?? [:] }
        func find(_ name: String, step: Int) throws -> [String: Any] {
            try #require(records.first { $0["pair"] as? String == name && group($0)["step"] as? Double == Double(step) }, "no \(name) step \(step)")
        }

        // Fan-in: 60, 60 and 15 MB/s senders into a 15 MB/s server: its goodput, shared fairly.
        let fanIn = try find("fan-in-mid", step: 3)
        let aggregate = try #require(fanIn["value"] as? Double)
        #expect(abs(aggregate - 15) / 15 <= 0.03, "fan-in aggregate \(aggregate) MB/s, server shaped at 15")
        let flows = try #require(group(fanIn)["flows"] as? [Double])
        #expect(flows.count == 3 && abs(flows.reduce(0, +) / 1e6 - aggregate) < 0.01 * aggregate, "\(flows)")
        let fairness = try #require(group(fanIn)["fairness"] as? Double)
        #expect(fairness > 0.9, "fairness \(fairness), flows \(flows)")
        #expect(group(fanIn)["shape"] as? String == "fan_in" && group(fanIn)["hub"] as? String == "10.231.\(third).10")

        // Through: backends at 10 MB/s each behind a 15 MB/s middle: 10, then the middle's 15 from 2 backends on,
        // never more. (Three flows through the middle's two shapers, in and out, were seen 5 % below its
        // goodput in one run of three: the ceiling is the step where the aggregate stops rising.)
        let steps = try [1, 2, 3].map { try #require(find("lb-mid", step: $0)["value"] as? Double) }
        #expect(abs(steps[0] - 10) / 10 <= 0.03 && abs(steps[1] - 15) / 15 <= 0.03 && steps[2] <= 15 * 1.03, "\(steps)")
        #expect(group(try find("lb-mid", step: 3))["middle"] as? String == "10.231.\(third).11")
        // Its reference, the same three backends without the middle: their 30 MB/s.
        let direct = try #require(records.first { $0["pair"] as? String == "lb-mid" && group($0)["direct"] as? Bool == true }?["value"] as? Double)
        #expect(abs(direct - 30) / 30 <= 0.03, "direct \(direct) MB/s")

        // Fan-out: one 60 MB/s client to two 10 MB/s servers: each server's link, not the client's.
        let fanOut = try #require(try find("fan-out-fast", step: 2)["value"] as? Double)
        #expect(abs(fanOut - 20) / 20 <= 0.03, "fan-out \(fanOut) MB/s")
        print("groups lab: fan-in \(aggregate) MB/s (fairness \(fairness)), through \(steps), fan-out \(fanOut)")

        let report = try String(contentsOfFile: lab.report, encoding: .utf8)
        #expect(report.contains("## Groups"), "\(report)")
        // The ceiling at the middle's goodput within 3 %, from 2 backends on, and the middle named.
        let line = try #require(report.split(separator: "\n").first { $0.hasPrefix("The middle's (10.231.\(third).11) link caps the group at ") }, "\(report)")
        let ceiling = try #require(Double(line.split(separator: " ")[8]), "\(line)")
        #expect(abs(ceiling - 15) / 15 <= 0.03 && line.contains("MB/s from 2 backends on"), "\(line)")
        #expect(report.contains("The server's (10.231.\(third).10) link caps") == false, "one step: no curve for the fan-in")
        #expect(lab.leftovers() == [])
    }
}
