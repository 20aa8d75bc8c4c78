import Foundation
import Testing
import NetNS

/// `cloudbench compare` end to end on the lab: real sshd, real links, the real agent.
@Suite("compare on the lab", .enabled(if: getuid() == 0, "needs root for the lab"), .serialized)
struct CompareLabTests {
    static let emulated: [String: Double] = ["slow": 20, "mid": 60, "fast": 150]

    func value(_ records: [[String: Any]], _ pair: String, _ path: String, _ test: String) -> Double? {
        records.first { $0["pair"] as? String == pair && $0["path"] as? String == path && $0["test"] as? String == test
            && $0["status"] as? String == "ok" }?["value"] as? Double
    }

    @Test("three pairs on host, vxlan, udp and the lab's own overlay: every cell measured, nothing left behind")
    func fullRun() throws {
        let lab = try LabRun(tag: "a", third: 150)
        defer { lab.down() }
        // Every 50 ms, every process on both sides of every pair: no token at any moment (the run
        // key is 64 hex digits), while the agents are seen running.
        let sampler = ProcessListSampler(namespaces: Namespace.existing(prefix: "cbl-\(lab.name)-").map(\.name),
            suspicious: { $0.contains("CLOUDBENCH_AGENT_TOKEN") || $0.contains("--token ") || $0.contains("--token=")
                || $0.range(of: "[0-9a-f]{64}", options: .regularExpression) != nil },
            expected: { $0.contains("cloudbench-agent-") && $0.contains(" serve ") && $0.contains("--token-stdin") })
        let r: (status: Int32, stdout: String, stderr: String)
        do {
            defer { _ = sampler.stop() }
            r = try lab.compare(["--parallel", "3", "--verbose"])
        }
        let sampled = sampler.stop()
        #expect(sampled.suspicious.isEmpty, "a token in a process list: \(sampled.suspicious.prefix(3))")
        #expect(sampled.expected > 10 && sampled.rounds > 50, "\(sampled.expected) agent servers seen in \(sampled.rounds) samples")
        #expect(r.status == 0, "\(r.stdout)\n\(r.stderr)")
        let records = try lab.records()
        #expect(records.count == 3 * 4 * 2)
        // --verbose: each remote command once, with its host, duration and exit status: the probe
        // once per host, each cell's client once (its pid file names the cell).
        let log = r.stderr.split(separator: "\n")
        #expect(log.filter { $0.contains("echo arch=$(uname -m)") }.count == 6, "\(r.stderr.prefix(2000))")
        for n in 1...24 {
            #expect(log.filter { $0.contains("/client-") && $0.contains("-\(n).pid; exec 3<&-; wait $!") }.count == 1)
        }
        #expect(log.filter { $0.contains(" run --server ") }.allSatisfy { $0.contains("host=") && $0.contains("ms=") && $0.contains("result=exit 0") })
        #expect(records.allSatisfy { $0["status"] as? String == "ok" })
        for (pair, goodput) in Self.emulated {
            let host = try #require(value(records, pair, "host", "tcp_bw"))
            #expect(abs(host - goodput) / goodput < 0.05, "\(pair): \(host) MB/s measured, \(goodput) emulated")
            for path in ["host", "vxlan", "udp", "labnet"] {
                #expect((value(records, pair, path, "tcp_lat") ?? 0) > 0, "\(pair) \(path): no latency")
            }
        }
        // As in the reference study: kernel VXLAN costs less than user-space UDP encapsulation.
        let host = value(records, "fast", "host", "tcp_bw")!, vxlan = value(records, "fast", "vxlan", "tcp_bw")!
        let udp = value(records, "fast", "udp", "tcp_bw")!
        #expect((host - vxlan) / host < (host - udp) / host)
        // Each record proves its path: the route to the server left through the expected interface.
        let vxlanRecord = try #require(records.first { $0["pair"] as? String == "fast" && $0["path"] as? String == "vxlan" })
        let route = (vxlanRecord["detail"] as? [String: Any])?["route"] as? [String: Any]
        #expect(route?["device"] as? String == "cbvx0")
        #expect(route?["mtu"] as? Double == 1450)
        let report = try String(contentsOfFile: lab.report, encoding: .utf8)
        #expect(report.contains("| m4.large | us-east-1 |") && report.contains("## Overlays versus the host network"))
        // Each pair priced in its profile region: m4.large at the catalog's us-east-1 price.
        #expect(report.contains("| $0.126 |"))
        #expect(FileManager.default.fileExists(atPath: lab.report.replacingOccurrences(of: ".md", with: ".svg")))
        #expect(lab.leftovers() == [])
        #expect(!r.stdout.contains("still has"))
        // The token never reaches a record or the output.
        let text = try String(contentsOfFile: "\(lab.results)/\(try FileManager.default.contentsOfDirectory(atPath: lab.results)[0])", encoding: .utf8)
        #expect(!text.contains("CLOUDBENCH_AGENT_TOKEN") && !r.stdout.contains("TOKEN"))
        // The token travels on standard input: the verbose log has no 64-hex-digit secret (and no
        // token variable), and no private key.
        #expect(!r.stderr.contains("CLOUDBENCH_AGENT_TOKEN") && r.stderr.contains("--token-stdin"))
        #expect(r.stderr.range(of: "[0-9a-f]{64}", options: .regularExpression) == nil)
        #expect(!r.stderr.contains("PRIVATE KEY"))
    }

    @Test("Ctrl-C stops the run, keeps every finished record, cleans the hosts; --resume runs exactly the missing cells")
    func interruptAndResume() throws {
        let lab = try LabRun(tag: "b", third: 152)
        defer { lab.down() }
        let (p, _, _) = try lab.startCompare(["--parallel", "1"])
        // Wait for a few records, then interrupt as a terminal's Ctrl-C would.
        let deadline = Date().addingTimeInterval(90)
        while (try? lab.records().count) ?? 0 < 3 && Date() < deadline && p.isRunning { usleep(100_000) }
        #expect(p.isRunning)
        p.interrupt()
        let stopBy = Date().addingTimeInterval(40)
        while p.isRunning && Date() < stopBy { usleep(100_000) }
        // TERM, then KILL to its whole group: a compare stuck (e.g. in a crash handler writing to a
        // pipe nobody reads) must fail the test, not hang the suite.
        p.stop(grace: 2)
        #expect(p.terminationStatus == 130)
        let kept = try lab.records()
        #expect(kept.count >= 3 && kept.count < 24)
        #expect(kept.allSatisfy { $0["status"] as? String == "ok" }, "an interrupted cell must not leave a failed record")
        #expect(lab.leftovers() == [])

        let runID = try #require(kept.first?["run_id"] as? String)
        let r = try lab.compare(["--parallel", "3", "--resume", runID])
        #expect(r.status == 0, "\(r.stdout)\n\(r.stderr)")
        let all = try lab.records()
        #expect(all.count == 24)
        let cells = all.map { "\($0["pair"]!)/\($0["path"]!)/\($0["test"]!)/\($0["repetition"]!)" }
        #expect(Set(cells).count == 24, "a cell was measured twice")
        #expect(Array(all.prefix(kept.count)).map { $0["id"] as! String } == kept.map { $0["id"] as! String })
        #expect(lab.leftovers() == [])
    }

    @Test("a host whose sshd dies, a link cut mid-test and a killed agent: failures recorded with reasons, the rest finishes")
    func failures() throws {
        // Keepalives every second, so a silent host is noticed in seconds.
        let lab = try LabRun(tag: "c", third: 154) { $0.replacingOccurrences(of: "  sudo: false\n", with: "  sudo: false\n  keepalive: 1s\n") }
        defer { lab.down() }
        let (p, out, _) = try lab.startCompare(["--parallel", "3"])
        let ns = { (suffix: String) in lab.instances.first { $0.name.hasSuffix(suffix) }! }
        func waitFor(_ what: @escaping ([[String: Any]]) -> Bool) {
            let until = Date().addingTimeInterval(60)
            while !(what((try? lab.records()) ?? [])) && Date() < until && p.isRunning { usleep(50_000) }
        }
        // slow: its server's sshd dies for good after the first record.
        waitFor { $0.contains { $0["pair"] as? String == "slow" } }
        let slowServer = ns("-slow-s")
        for pid in ((try? ProcessRunner.check(["ip", "netns", "pids", slowServer.name])) ?? "").split(separator: "\n") {
            let cmd = (try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? ""
            if cmd.hasPrefix("sshd") { kill(Int32(pid)!, SIGKILL) }
        }
        // mid: the agent server is killed while the second cell runs.
        waitFor { $0.filter { $0["pair"] as? String == "mid" }.count >= 1 }
        usleep(1_500_000)
        for pid in ((try? ProcessRunner.check(["ip", "netns", "pids", ns("-mid-s").name])) ?? "").split(separator: "\n") {
            let cmd = (try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? ""
            if cmd.contains("cloudbench-agent") && cmd.contains("serve") { kill(Int32(pid)!, SIGKILL) }
        }
        // fast: its client's link goes down for 4 s in the middle of a cell.
        waitFor { $0.filter { $0["pair"] as? String == "fast" }.count >= 2 }
        usleep(1_500_000)
        let fastClient = ns("-fast-c")
        try fastClient.run(["ip", "link", "set", "eth0", "down"])
        usleep(4_000_000)
        try fastClient.run(["ip", "link", "set", "eth0", "up"])

        let until = Date().addingTimeInterval(180)
        while p.isRunning && Date() < until { usleep(200_000) }
        // TERM, then KILL to its whole group: a compare stuck (e.g. in a crash handler writing to a
        // pipe nobody reads) must fail the test, not hang the suite.
        p.stop(grace: 2)
        let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(p.terminationStatus == 1, "\(stdout)")
        print(stdout)
        let records = try lab.records()
        #expect(records.count == 24, "every cell has a record, failed ones with their reason")
        let failed = records.filter { $0["status"] as? String == "failed" }
        #expect(failed.allSatisfy { !(($0["error"] as? String) ?? "").isEmpty })
        // The dead host's remaining cells failed at once, naming it.
        #expect(failed.contains { ($0["error"] as? String ?? "").contains("became unreachable") || ($0["error"] as? String ?? "").contains("unreachable") })
        #expect(records.filter { $0["pair"] as? String == "slow" && $0["status"] as? String == "ok" }.count >= 1)
        // The killed agent failed its cell, and the pair went on.
        let mid = records.filter { $0["pair"] as? String == "mid" }
        #expect(mid.contains { $0["status"] as? String == "failed" } && mid.last?["status"] as? String == "ok",
                "\(mid.map { "\($0["path"] ?? "")/\($0["test"] ?? ""): \($0["status"] ?? "") \($0["error"] ?? "")" })")
        // The cut link failed the cell it hit; the pair's later cells ran again after the link came back.
        let fast = records.filter { $0["pair"] as? String == "fast" }
        #expect(fast.contains { $0["status"] as? String == "failed" } && fast.last?["status"] as? String == "ok")
        #expect(stdout.contains("first failure"))
        // Hosts that stayed reachable are clean (the dead one cannot be cleaned; the next run would).
        #expect(lab.leftovers().filter { !$0.contains("-slow-s") } == [])
    }
}
