import AgentContract
import CloudbenchProcess
import Foundation
import NetNS
import Testing

/// The fault suite's host faults (issue 16): the server's sshd killed, its agent server killed and
/// the whole host rebooted, each in the middle of a cell. For each: every cell has a record (none
/// cut), the failed ones say why, and nothing of cloudbench's is left on either host once the
/// run's cleanup (or the lost host's lease) is done.
extension FaultSuiteTests {
    /// Processes in `ns` whose command line's words satisfy `match`.
    func processes(in ns: Namespace, _ match: ([Substring]) -> Bool) -> [Int32] {
        let pids = ((try? ProcessRunner.check(["ip", "netns", "pids", ns.name])) ?? "").split(separator: "\n").compactMap { Int32($0) }
        return pids.filter { pid in
            let words = ((try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? "").split(separator: "\0")
            return !words.isEmpty && match(words)
        }
    }

    /// The agent's client running a cell in `ns` (`cloudbench-agent-… run --server …`).
    func clientRunning(in ns: Namespace) -> Bool {
        !processes(in: ns) { $0[0].contains("cloudbench-agent") && $0.dropFirst().first == "run" }.isEmpty
    }

    /// Waits until a record is written and the next cell's client is measuring.
    func midCell(_ lab: LabRun, _ p: ChildProcess, client: Namespace) {
        waitFor(p, seconds: 60) { lines(lab).records.count >= 1 }
        waitFor(p, seconds: 30) { clientRunning(in: client) }
    }

    func pair(_ lab: LabRun) throws -> (server: Namespace, client: Namespace) {
        (try #require(lab.instances.first { $0.name.hasSuffix("-solo-s") }), try #require(lab.instances.first { $0.name.hasSuffix("-solo-c") }))
    }

    /// Waits up to a lease's expiry, a watchdog period and slack for the hosts to be clean.
    func cleanAfterLease(_ lab: LabRun) -> [String] {
        let until = Date().addingTimeInterval(LeaseTerms.expiry + 2 * LeaseTerms.period + 10)
        var left = lab.leftovers()
        while !left.isEmpty && Date() < until {
            usleep(250_000)
            left = lab.leftovers()
        }
        return left
    }

    @Test("the server's sshd killed mid-cell: its agent server still answers, so every cell measures; compare says the host's cleanup could not run, and its lease cleans it up")
    func sshdKilled() throws {
        let lab = try LabRun(tag: "s", third: 186, profile: "fault-lab")
        defer { lab.down() }
        let (server, client) = try pair(lab)
        let (p, out, _) = try lab.startCompare(["--parallel", "1"])
        midCell(lab, p, client: client)
        // The listener and every session: the orchestrator's connection breaks, and no new one is possible.
        let sshd = processes(in: server) { $0[0].hasSuffix("sshd") || $0[0].hasPrefix("sshd:") }
        #expect(!sshd.isEmpty)
        for pid in sshd { kill(pid, SIGKILL) }
        let took = finish(p, within: 120)
        let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(took < 90, "compare took \(took) s after the sshd was killed")
        let all = lines(lab)
        #expect(all.broken.isEmpty)
        #expect(all.records.count == 6, "every cell has a record: \(stdout)")
        // The host-path cells need no command on the server once its agent server runs; those that
        // did (if a renewal or a check came first) fail naming the host as unreachable.
        let failed = all.records.filter { $0["status"] as? String == "failed" }
        #expect(failed.allSatisfy { (($0["error"] as? String) ?? "").contains("unreachable") }, "\(failed.map { $0["error"] ?? "" })")
        #expect(p.terminationStatus == (failed.isEmpty ? 0 : 1))
        if failed.isEmpty {
            #expect(stdout.contains("the cleanup could not run"), "\(stdout)")
        }
        // The server's agent server and watchdog went with its lease; the client was cleaned by the run.
        #expect(cleanAfterLease(lab) == [])
    }

    @Test("the agent server killed mid-cell: that cell fails saying the server ended, a new server measures the rest, hosts clean")
    func agentKilled() throws {
        let lab = try LabRun(tag: "a", third: 188, profile: "fault-lab")
        defer { lab.down() }
        let (server, client) = try pair(lab)
        let (p, out, _) = try lab.startCompare(["--parallel", "1"])
        midCell(lab, p, client: client)
        let agents = processes(in: server) { $0[0].contains("cloudbench-agent") && $0.dropFirst().first == "serve" }
        #expect(agents.count == 1, "one agent server per host")
        for pid in agents { kill(pid, SIGKILL) }
        _ = finish(p, within: 120)
        let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let all = lines(lab)
        #expect(all.broken.isEmpty)
        #expect(all.records.count == 6, "every cell has a record: \(stdout)")
        let failed = all.records.filter { $0["status"] as? String == "failed" }
        #expect(failed.count == 1, "only the cell it hit: \(failed.map { $0["error"] ?? "" })")
        #expect(failed.allSatisfy { (($0["error"] as? String) ?? "").contains("agent server on") && (($0["error"] as? String) ?? "").contains("had ended") },
                "\(failed.map { $0["error"] ?? "" })")
        #expect(all.records.last?["status"] as? String == "ok")
        #expect(lab.leftovers() == [])
    }

    @Test("the server rebooted mid-cell (namespace deleted and made again, sshd restarted, an empty home): the run reconnects, redeploys and measures the rest")
    func serverRebooted() throws {
        let lab = try LabRun(tag: "r", third: 190, profile: "fault-lab")
        defer { lab.down() }
        let (server, client) = try pair(lab)
        let (p, out, err) = try lab.startCompare(["--parallel", "1"])
        midCell(lab, p, client: client)
        try reboot(server, lab: lab)
        _ = finish(p, within: 120)
        let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            + String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let all = lines(lab)
        #expect(all.broken.isEmpty)
        #expect(all.records.count == 6, "every cell has a record: \(stdout)")
        let failed = all.records.filter { $0["status"] as? String == "failed" }
        #expect(!failed.isEmpty && failed.allSatisfy { !(($0["error"] as? String) ?? "").isEmpty })
        #expect(all.records.last?["status"] as? String == "ok", "the cells after the reboot are measured: \(stdout)")
        #expect(stdout.contains("connection lost and re-established"), "\(stdout)")
        #expect(lab.leftovers() == [])
    }

    @Test("two runs on one pair of hosts: the second says which run holds them and touches nothing; the first measures every cell")
    func sharedHosts() throws {
        let lab = try LabRun(tag: "m", third: 192, profile: "fault-lab")
        defer { lab.down() }
        let (server, client) = try pair(lab)
        let (p, _, _) = try lab.startCompare(["--parallel", "1"])
        midCell(lab, p, client: client)
        let firstID = try #require(lines(lab).records.first?["run_id"] as? String)
        let serving = { processes(in: server) { $0[0].contains("cloudbench-agent") && $0.dropFirst().first == "serve" } }
        let serverBefore = serving()
        let second = try lab.compare(["--parallel", "1"])
        #expect(p.isRunning, "the first run was still running while the second tried")
        #expect(second.status != 0)
        #expect((second.stdout + second.stderr).contains("in use by cloudbench run \(firstID)"), "\(second.stdout)\n\(second.stderr)")
        // The first run's files and agent server on the shared host are as they were: one run
        // directory per host is enough while only one run can hold a host (docs/compare.md).
        let sshd = try #require(lab.sshdPid("solo-server"))
        let lease = try ProcessRunner.run(["nsenter", "-t", "\(sshd)", "-m", "--", "sh", "-c", "cat \"$HOME\"/.cache/cloudbench/run/lease"])
        #expect(lease.stdout == firstID + "\n", "\(lease)")
        #expect(serverBefore.count == 1 && serving() == serverBefore)
        _ = finish(p, within: 120)
        #expect(p.terminationStatus == 0)
        let first = lines(lab).records.filter { $0["run_id"] as? String == firstID }
        #expect(first.count == 6 && first.allSatisfy { $0["status"] as? String == "ok" }, "\(first.map { $0["error"] ?? "" })")
        #expect(lab.leftovers() == [])
    }

    /// A reboot of a lab host: every process in its namespace killed, the namespace deleted (its
    /// link with it) and made again with the same address, and its sshd started again as the lab
    /// starts it (same config and host key; an empty private home and /tmp).
    func reboot(_ ns: Namespace, lab: LabRun) throws {
        let fabric = "cbl-\(lab.name)-fabric"
        // eth0@ifN: N is the bridge-side end's index in the fabric namespace.
        let eth0 = try ProcessRunner.check(["ip", "-n", ns.name, "-o", "link", "show", "eth0"])
        let peerIndex = try #require(eth0.range(of: #"@if[0-9]+"#, options: .regularExpression).map { eth0[$0].dropFirst(3) })
        let fabricLinks = try ProcessRunner.check(["ip", "-n", fabric, "-o", "link", "show"]).split(separator: "\n")
        let peer = try #require(fabricLinks.first { $0.hasPrefix("\(peerIndex): ") })
        let device = String(try #require(peer.split(separator: " ").dropFirst().first?.split(separator: "@").first))
        let bridge = String(try #require(peer.range(of: #"master [^ ]+"#, options: .regularExpression).map { peer[$0].dropFirst(7) }))
        // The same MAC after the reboot, as a cloud instance keeps its own (peers' ARP caches stay right).
        let mac = try #require(eth0.range(of: #"link/ether [0-9a-f:]+"#, options: .regularExpression).map { String(eth0[$0].dropFirst(11)) })
        let address = try #require(try ProcessRunner.check(["ip", "-n", ns.name, "-o", "-4", "addr", "show", "eth0"])
            .split(separator: " ").first { $0.contains("/") }).description
        // As the lab starts it (sshd rewrites its command line, so not from /proc).
        let hostFiles = "\(lab.state)/hosts/solo-server"
        let sshdArgv = ["/usr/sbin/sshd", "-f", "\(hostFiles)/sshd_config", "-E", "\(hostFiles)/sshd.log"]

        // Power off: everything in it dies at once.
        let pids = try ProcessRunner.check(["ip", "netns", "pids", ns.name]).split(separator: "\n").compactMap { Int32($0) }
        for pid in pids { kill(pid, SIGKILL) }
        try ProcessRunner.check(["ip", "netns", "del", ns.name])
        // The namespace goes once its last process has; its veth (and the bridge's end) with it.
        let until = Date().addingTimeInterval(10)
        while Date() < until, (try? ProcessRunner.check(["ip", "-n", fabric, "link", "show", device])) != nil { usleep(50_000) }
        usleep(2_000_000)  // down a while, as a reboot is

        // Power on.
        try ProcessRunner.check(["ip", "netns", "add", ns.name])
        try ProcessRunner.check(["ip", "-n", ns.name, "link", "set", "lo", "up"])
        try ProcessRunner.check(["ip", "-n", fabric, "link", "add", device, "type", "veth", "peer", "name", "eth0", "netns", ns.name])
        try ProcessRunner.check(["ip", "-n", fabric, "link", "set", device, "master", bridge, "up"])
        try ProcessRunner.check(["ip", "-n", ns.name, "link", "set", "eth0", "address", mac])
        try ProcessRunner.check(["ip", "-n", ns.name, "addr", "add", address, "dev", "eth0"])
        try ProcessRunner.check(["ip", "-n", ns.name, "link", "set", "eth0", "up"])
        let home = String(cString: getpwuid(0).pointee.pw_dir)
        try ProcessRunner.check(["ip", "netns", "exec", ns.name, "unshare", "--mount", "--propagation", "private", "sh", "-c",
                                 "mount -t tmpfs -o mode=0700,size=2g cloudbench-lab \(home) && mount -t tmpfs -o mode=1777,size=2g cloudbench-lab /tmp"
                                 + " && exec \"$0\" \"$@\""] + sshdArgv)
    }
}
