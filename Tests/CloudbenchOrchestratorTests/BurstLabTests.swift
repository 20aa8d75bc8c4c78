import Foundation
import Testing
import NetNS

/// A burstable instance on the lab: the emulation's own truth measured with iperf3, then
/// `compare --sustained` finds the burst within 15 % and the sustained rate within 5 % of it,
/// and flags none of the steady links.
@Suite("burst credits on the lab", .enabled(if: getuid() == 0, "needs root for the lab"), .serialized)
struct BurstLabTests {
    /// iperf3's per-second goodput from the pair's server to its client, counted where it is received
    /// (`-R`: the client's intervals; a sender's would count bytes queued, not delivered), after the
    /// lab's own `before-cell` script refilled the pair's credit.
    static func iperf3Seconds(lab: LabRun, pair: String, seconds: Int) throws -> [Double] {
        let (server, client) = ("cbl-\(lab.name)-\(pair)-s", "cbl-\(lab.name)-\(pair)-c")
        let address = try Namespace(existing: server).run(["ip", "-4", "-o", "addr", "show", "dev", "eth0"])
            .split(separator: " ").first { $0.contains("/24") }.map { String($0.split(separator: "/")[0]) }
        let serverAddress = try #require(address)
        let listener = try ProcessRunner.start(["ip", "netns", "exec", server, "iperf3", "-s", "-1", "-B", serverAddress, "-p", "5291"])
        defer { listener.stop() }
        usleep(300_000)
        try ProcessRunner.check(["env", "CLOUDBENCH_CELL_PAIR=\(pair)", "CLOUDBENCH_CELL_TEST=tcp_bw", "\(lab.state)/before-cell"])
        let json = try ProcessRunner.check(["ip", "netns", "exec", client, "iperf3", "-c", serverAddress, "-p", "5291", "-J",
                                    "-t", "\(seconds)", "-R", "--connect-timeout", "2000"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let intervals = try #require(object["intervals"] as? [[String: Any]])
        return intervals.compactMap { ($0["sum"] as? [String: Any]).flatMap { s in
            guard let b = (s["bytes"] as? NSNumber)?.doubleValue, let t = (s["seconds"] as? NSNumber)?.doubleValue, t > 0 else { return nil }
            return b / t
        } }
    }

    static func mean(_ xs: ArraySlice<Double>) -> Double { xs.reduce(0, +) / Double(xs.count) }

    @Test("the burstable pair: burst and sustained rates found; steady links never flagged")
    func burstOnTheLab() throws {
        let lab = try LabRun(tag: "u", third: 156, profile: "burst-lab")
        defer { lab.down() }
        // The emulation's truth: 126 MB/s wire-adjusted peak for 620e6 / (131.74e6 − 8.37e6) ≈ 5.0 s, then 8 MB/s.
        // Seconds 2-4 are wholly in the burst (the first holds TCP's start), 7-15 wholly after it.
        let truth = try Self.iperf3Seconds(lab: lab, pair: "burst", seconds: 15)
        try #require(truth.count == 15)
        let truthBurst = Self.mean(truth[1...3]), truthSustained = Self.mean(truth[6...])
        #expect(abs(truthSustained / 8e6 - 1) < 0.03, "sustained truth \(truthSustained)")
        print("burst truth (iperf3, B/s per second): \(truth.map { Int($0) })")

        // iperf3 just spent the credit: compare sees a burst only because the lab refills it before the cell.
        let r = try lab.compare(["--parallel", "1", "--sustained"])
        #expect(r.status == 0, "\(r.stdout)\n\(r.stderr)")
        let records = try lab.records()
        #expect(records.count == 4 && records.allSatisfy { $0["status"] as? String == "ok" })
        func record(_ pair: String) -> [String: Any]? { records.first { $0["pair"] as? String == pair } }
        func detail(_ pair: String) -> [String: Any]? { record(pair)?["detail"] as? [String: Any] }

        let burst = try #require(detail("burst")?["burst"] as? [String: Any], "no burst found: \(detail("burst")?["intervals"] ?? "")")
        let found = (burst: try #require(burst["burst_bytes_per_second"] as? Double),
                     sustained: try #require(burst["sustained_bytes_per_second"] as? Double),
                     seconds: try #require(burst["burst_seconds"] as? Double))
        print("burst found by compare: \(found); truth burst \(Int(truthBurst)) sustained \(Int(truthSustained))")
        #expect(abs(found.sustained / truthSustained - 1) <= 0.05, "sustained \(found.sustained) vs \(truthSustained)")
        #expect(abs(found.burst / truthBurst - 1) <= 0.15, "burst \(found.burst) vs \(truthBurst)")
        // 5 s of credit less the 1 s warm-up, give or take the agent's start.
        #expect(found.seconds > 2.5 && found.seconds < 5.5, "burst for \(found.seconds) s")
        #expect(record("burst")?["value"] as? Double == (found.sustained / 1e6))
        #expect(detail("burst")?["duration_s"] as? Double == 12)

        // Steady links: the burstable types ran 12 s (--sustained), m4.large its 3 s; none is flagged.
        for pair in ["droplet", "bseries", "steady"] {
            #expect(detail(pair)?["burst"] == nil, "\(pair) flagged: \(detail(pair)?["intervals"] ?? "")")
            #expect(detail(pair)?["duration_s"] as? Double == (pair == "steady" ? 3 : 12))
        }
        let report = try String(contentsOfFile: lab.report, encoding: .utf8)
        #expect(report.contains("## Burst credits"))
        let chart = try #require(report.split(separator: "\n").first { $0.contains("| burst | host |") }?
            .split(separator: "(").last?.split(separator: ")").first)
        let svg = try String(contentsOfFile: "\(lab.work)/\(chart)", encoding: .utf8)
        #expect(svg.hasPrefix("<svg") && svg.contains("t2.small"))
        #expect(lab.leftovers() == [])

        // `lab check` measures the burst pair from a full credit, against its peak over 3 s.
        let check = try ProcessRunner.check(["\(LabRun.bin)/cloudbench", "lab", "check", "--name", lab.name, "--pair", "burst", "--seconds", "3"])
        #expect(check.split(separator: "\n").filter { $0.hasPrefix("burst") && $0.contains("126 MB/s") }.count == 2, "\(check)")
    }
}
