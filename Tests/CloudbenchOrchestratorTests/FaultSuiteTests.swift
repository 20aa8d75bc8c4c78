import CloudbenchProcess
import CloudbenchTestSupport
import Foundation
import NetNS
import Testing

/// The fault suite (issue 16): `compare` on a one-pair lab while something breaks. For each
/// fault: no finished record lost, a message that says what happened, and nothing of
/// cloudbench's left on the hosts once the run (or the next one) has cleaned up.
@Suite("faults during compare", .enabled(if: getuid() == 0, "needs root for the lab"), .serialized)
struct FaultSuiteTests {
    /// Every line of the lab's results files: (records that parse, lines that do not).
    func lines(_ lab: LabRun) -> (records: [[String: Any]], broken: [String]) {
        var records: [[String: Any]] = [], broken: [String] = []
        for f in ((try? FileManager.default.contentsOfDirectory(atPath: lab.results)) ?? []).sorted() where f.hasSuffix(".jsonl") {
            let text = (try? String(contentsOfFile: "\(lab.results)/\(f)", encoding: .utf8)) ?? ""
            for line in text.split(separator: "\n") {
                if let r = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] { records.append(r) }
                else { broken.append(String(line)) }
            }
        }
        return (records, broken)
    }

    /// The `cloudbench compare` process: the runner itself once `lab exec` has exec'd it, or its descendant.
    func comparePid(under runner: ChildProcess) -> Int32? {
        ([runner.processIdentifier] + descendants(of: runner.processIdentifier)).first { pid in
            let cmd = (try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? ""
            return cmd.split(separator: "\0").dropFirst().first == "compare"
        }
    }

    func waitFor(_ p: ChildProcess, seconds: Double, _ done: () -> Bool) {
        let until = Date().addingTimeInterval(seconds)
        while !done() && Date() < until && p.isRunning { usleep(50_000) }
    }

    func finish(_ p: ChildProcess, within seconds: Double) -> Double {
        let started = Date()
        while p.isRunning && Date().timeIntervalSince(started) < seconds { usleep(20_000) }
        let took = Date().timeIntervalSince(started)
        // TERM, then KILL to its whole group: a compare stuck (e.g. in a crash handler writing to a
        // pipe nobody reads) must fail the test, not hang the suite.
        p.stop(grace: 2)
        return took
    }

    @Test("the orchestrator SIGKILLed mid-run: every finished record is whole; --resume measures the rest and cleans the hosts")
    func killedThenResumed() throws {
        let lab = try LabRun(tag: "k", third: 160, profile: "fault-lab")
        defer { lab.down() }
        let (p, _, _) = try lab.startCompare(["--parallel", "1"])
        waitFor(p, seconds: 60) { lines(lab).records.count >= 2 }
        let pid = try #require(comparePid(under: p))
        kill(pid, SIGKILL)
        _ = finish(p, within: 10)
        let kept = lines(lab)
        #expect(kept.broken.isEmpty && kept.records.count >= 2 && kept.records.count < 6)
        #expect(kept.records.allSatisfy { $0["status"] as? String == "ok" })

        let runID = try #require(kept.records.first?["run_id"] as? String)
        let r = try lab.compare(["--resume", runID])
        #expect(r.status == 0, "\(r.stdout)\n\(r.stderr)")
        let all = lines(lab)
        #expect(all.broken.isEmpty)
        let ok = all.records.filter { $0["status"] as? String == "ok" }
        #expect(Set(ok.map { $0["repetition"] as? Int ?? 0 }) == Set(1...6), "\(ok.count) ok records")
        // What the killed run left (its agents) went with the resumed run's cleanup.
        #expect(lab.leftovers() == [])
    }

    @Test("SIGHUP (a closed terminal) stops the run within seconds like Ctrl-C: status 130, finished records kept, hosts clean")
    func hangUp() throws {
        let lab = try LabRun(tag: "h", third: 162, profile: "fault-lab")
        defer { lab.down() }
        let (p, _, err) = try lab.startCompare(["--parallel", "1"])
        waitFor(p, seconds: 60) { lines(lab).records.count >= 1 }
        usleep(500_000)  // into the next cell
        let pid = try #require(comparePid(under: p))
        kill(pid, SIGHUP)
        let took = finish(p, within: 30)
        #expect(took < 10, "compare took \(took) s to stop after SIGHUP")
        #expect(p.terminationStatus == 130)
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(stderr.contains("stopping"), "\(stderr)")
        let kept = lines(lab)
        #expect(kept.broken.isEmpty && kept.records.count >= 1)
        #expect(kept.records.allSatisfy { $0["status"] as? String == "ok" }, "an interrupted cell must not leave a failed record")
        #expect(lab.leftovers() == [])
    }

    @Test("the results file on a full small tmpfs: the run stops naming the file and the reason; every record written is whole")
    func fullResultsDisk() throws {
        let lab = try LabRun(tag: "f", third: 164, profile: "fault-lab")
        defer { lab.down() }
        try FileManager.default.createDirectory(atPath: lab.results, withIntermediateDirectories: true)
        // One page: a few records fit, not six.
        try ProcessRunner.check(["mount", "-t", "tmpfs", "-o", "size=4k", "cbfault", lab.results])
        defer { _ = try? ProcessRunner.check(["umount", lab.results]) }
        let r = try lab.compare(["--parallel", "1"])
        #expect(r.status != 0)
        #expect((r.stdout + r.stderr).contains("No space left on device"), "\(r.stdout)\n\(r.stderr)")
        let kept = lines(lab)
        #expect(kept.broken.isEmpty, "a cut record: \(kept.broken)")
        #expect(kept.records.count >= 1 && kept.records.count < 6)
        #expect(lab.leftovers() == [])
    }

    @Test("the client's link down for 10 s mid-run: the cells it hit fail with the reason, the rest are measured, hosts clean")
    func linkDownTenSeconds() throws {
        // Keepalives every second, so a silent host is noticed in seconds.
        let lab = try LabRun(tag: "l", third: 166, profile: "fault-lab") {
            $0.replacingOccurrences(of: "  sudo: false\n", with: "  sudo: false\n  keepalive: 1s\n")
        }
        defer { lab.down() }
        let (p, out, _) = try lab.startCompare(["--parallel", "1"])
        waitFor(p, seconds: 60) { lines(lab).records.count >= 1 }
        usleep(1_300_000)
        let client = try #require(lab.instances.first { $0.name.hasSuffix("-solo-c") })
        try client.run(["ip", "link", "set", "eth0", "down"])
        usleep(10_000_000)
        try client.run(["ip", "link", "set", "eth0", "up"])
        _ = finish(p, within: 120)
        let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        print(stdout)
        let all = lines(lab)
        #expect(all.broken.isEmpty)
        #expect(all.records.count == 6, "every cell has a record")
        let failed = all.records.filter { $0["status"] as? String == "failed" }
        #expect(!failed.isEmpty && failed.allSatisfy { !(($0["error"] as? String) ?? "").isEmpty })
        #expect(all.records.first?["status"] as? String == "ok")
        #expect(lab.leftovers() == [])
    }
}
