import CloudbenchProcess
import Foundation
import NetNS
import Testing

/// The fault suite's interrupted deploy (issue 16): SIGTERM while `compare` uploads the agent over
/// a thin link.
extension FaultSuiteTests {
    /// Runs `script` in the mount namespace of `instance`'s sshd (its private home and /tmp).
    func inHost(_ lab: LabRun, _ instance: String, _ script: String) throws -> String {
        let pid = try #require(lab.sshdPid(instance), "no sshd pid for \(instance)")
        return try ProcessRunner.check(["nsenter", "-t", "\(pid)", "-m", "--", "sh", "-c", script])
    }

    /// The lab fabric's end of `ns`'s link (what the controller's traffic to the host leaves through).
    func fabricDevice(of ns: Namespace, lab: LabRun) throws -> String {
        let eth0 = try ProcessRunner.check(["ip", "-n", ns.name, "-o", "link", "show", "eth0"])
        let peerIndex = try #require(eth0.range(of: #"@if[0-9]+"#, options: .regularExpression).map { eth0[$0].dropFirst(3) })
        let links = try ProcessRunner.check(["ip", "-n", "cbl-\(lab.name)-fabric", "-o", "link", "show"]).split(separator: "\n")
        let peer = try #require(links.first { $0.hasPrefix("\(peerIndex): ") })
        return String(try #require(peer.split(separator: " ").dropFirst().first?.split(separator: "@").first))
    }

    @Test("SIGTERM while the agent is uploaded over a 250 kB/s link: status 130 within seconds, earlier records kept, no partial agent, lease or process on the host")
    func termDuringUpload() throws {
        let lab = try LabRun(tag: "t", third: 214, profile: "fault-lab")
        defer { lab.down() }
        let (server, _) = try pair(lab)
        // A run that measures a few cells and is stopped (Ctrl-C): records to keep.
        let (first, _, _) = try lab.startCompare(["--parallel", "1"])
        waitFor(first, seconds: 60) { lines(lab).records.count >= 2 }
        kill(try #require(comparePid(under: first)), SIGINT)
        _ = finish(first, within: 30)
        let before = lines(lab)
        let runID = try #require(before.records.first?["run_id"] as? String)
        #expect(before.broken.isEmpty && before.records.count >= 2 && before.records.count < 6)
        #expect(lab.leftovers() == [])

        // The server comes back without the agent (a replaced machine), behind a thin link: the
        // resumed run uploads it again (3.3 MB gzipped, about 13 s at 250 kB/s).
        let agents = "\"$HOME\"/.cache/cloudbench"
        _ = try inHost(lab, "solo-server", "rm -f \(agents)/cloudbench-agent-*")
        try ProcessRunner.check(["ip", "netns", "exec", "cbl-\(lab.name)-fabric", "tc", "qdisc", "replace", "dev",
                                 try fabricDevice(of: server, lab: lab), "root", "tbf", "rate", "2mbit", "burst", "16kb", "latency", "100ms"])
        let (p, _, err) = try lab.startCompare(["--resume", runID, "--parallel", "1"])
        // Mid-upload: the temporary file is there and growing.
        let partial = { (try? self.inHost(lab, "solo-server", "ls -A \(agents) 2>/dev/null | grep -c '\\.cloudbench-' ; true")) ?? "" }
        waitFor(p, seconds: 60) { (Int(partial().trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0) > 0 }
        usleep(1_000_000)
        #expect(p.isRunning, "compare ended before the upload was cut")
        kill(try #require(comparePid(under: p)), SIGTERM)
        let took = finish(p, within: 30)
        #expect(took < 10, "compare took \(took) s to stop after SIGTERM mid-upload")
        #expect(p.terminationStatus == 130)
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(stderr.contains("stopping"), "\(stderr)")
        // The pair did not fail preflight: the run was stopped before its first cell.
        #expect(stderr.contains("pair solo: not run (interrupted before its first cell)") && !stderr.contains("failed preflight"), "\(stderr)")

        // The records measured before are all there, whole; none was added for the cut run.
        let after = lines(lab)
        #expect(after.broken.isEmpty)
        #expect(after.records.count == before.records.count, "\(after.records.map { $0["error"] ?? "" })")
        // On the server: no partial agent (temporary or not), no lease or run files, no process.
        let left = try inHost(lab, "solo-server", "ls -A \(agents) 2>/dev/null; ls -A \(agents)/run 2>/dev/null; true")
        #expect(left.split(separator: "\n").allSatisfy { $0 == "run.lock" }, "left on the server: \(left)")
        #expect(lab.leftovers() == [])
    }
}
