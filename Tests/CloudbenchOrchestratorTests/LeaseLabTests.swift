import AgentContract
import CloudbenchProcess
import Foundation
import Testing

/// Leases on the lab: what a killed `compare` leaves on the hosts goes away by itself.
@Suite("leases on the lab", .enabled(if: getuid() == 0, "needs root for the lab"), .serialized)
struct LeaseLabTests {
    /// What is left in each lab host's run directory (each host has a private home), by host.
    static func runFiles(_ lab: LabRun) -> [String] {
        let hosts = (try? FileManager.default.contentsOfDirectory(atPath: "\(lab.state)/hosts")) ?? []
        return hosts.sorted().flatMap { host -> [String] in
            guard let pid = lab.sshdPid(host) else { return [] }
            let listed = (try? ProcessRunner.check(["nsenter", "-t", "\(pid)", "-m", "--", "sh", "-c",
                                                    "ls -A \"$HOME\"/.cache/cloudbench/run 2>/dev/null; true"])) ?? ""
            return listed.split(separator: "\n").map { "\(host): file \($0)" }
        }
    }

    @Test("compare SIGKILLed mid-run: within 3 lease periods (and slack) its agents, tunnels, devices and files are gone from every host")
    func killedOrchestrator() throws {
        let lab = try LabRun(tag: "k", third: 170)
        defer { lab.down() }
        let (p, _, err) = try lab.startCompare(["--parallel", "3"])
        defer { if p.isRunning { kill(p.processIdentifier, SIGKILL); p.waitUntilExit() } }
        // Mid-run: records written, agent servers and overlay devices up on the hosts.
        let until = Date().addingTimeInterval(120)
        var before: [String] = []
        while Date() < until && p.isRunning {
            before = lab.leftovers()
            if (try? lab.records().count) ?? 0 >= 3, before.contains(where: { $0.contains("agent process") }),
               before.contains(where: { $0.contains("interface") }) { break }
            usleep(100_000)
        }
        #expect(p.isRunning, "compare ended early: \(p.isRunning ? "" : String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))")
        #expect(before.contains { $0.contains("agent process") } && before.contains { $0.contains("interface") }, "\(before)")
        #expect(!Self.runFiles(lab).isEmpty)
        // As `kill -9` would: no cleanup, no signal handler.
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        let killed = Date()
        // The lease's expiry, a period for the watchdog's phase, and the cell's client, which renews
        // its host's lease until its test ends (3 s here), with slack for a loaded machine.
        let limit = LeaseTerms.expiry + 2 * LeaseTerms.period + 10
        var left = lab.leftovers() + Self.runFiles(lab)
        while !left.isEmpty && Date().timeIntervalSince(killed) < limit {
            usleep(250_000)
            left = lab.leftovers() + Self.runFiles(lab)
        }
        let took = Date().timeIntervalSince(killed)
        #expect(left == [], "still on the hosts \(Int(took)) s after the kill")
        // Not before the lease ran out: the hosts waited for the missed renewals.
        #expect(took >= LeaseTerms.expiry - LeaseTerms.period, "gone after \(took) s")
        print("lease: everything gone \(String(format: "%.1f", took)) s after SIGKILL (expiry \(LeaseTerms.expiry) s)")
    }

    /// Runs `command` in the mount namespace of the lab instance's sshd (where the run's
    /// container namespaces are named).
    static func inSSHMounts(_ lab: LabRun, _ instance: String, _ command: String) -> String {
        guard let pid = lab.sshdPid(instance) else { return "" }
        return (try? ProcessRunner.check(["nsenter", "-t", "\(pid)", "-m", "--", "sh", "-c", command])) ?? ""
    }

    @Test("compare SIGKILLed on the docker path: the watchdog ends the agents in the containers and removes the containers, the bridge and the NAT table, and puts ip_forward back")
    func killedOnTheDockerPath() throws {
        let lab = try LabRun(tag: "q", third: 220, profile: "docker-lab", edit: {
            $0.replacingOccurrences(of: "tests: [tcp_bw, tcp_lat, udp_bw]", with: "tests: [tcp_lat]")
                .replacingOccurrences(of: "duration: 1s", with: "duration: 6s")
                .replacingOccurrences(of: "paths: [host, docker]", with: "paths: [docker]")
        })
        defer { lab.down() }
        let forwarding = Dictionary(uniqueKeysWithValues: lab.instances.map { ns in
            (ns.name, (try? ns.run(["cat", "/proc/sys/net/ipv4/ip_forward"])) ?? "?")
        })
        let (p, _, err) = try lab.startCompare(["--parallel", "1"])
        defer { if p.isRunning { kill(p.processIdentifier, SIGKILL); p.waitUntilExit() } }
        // Mid-cell: the bridge up on both hosts, and an agent in each container (the server, the client).
        let list = "for n in /run/netns/cbdock-*; do [ -e \"$n\" ] && ip netns pids \"${n##*/}\"; done; true"
        let until = Date().addingTimeInterval(60)
        var agents: [Int32] = []
        while Date() < until && p.isRunning {
            let bridges = lab.leftovers().filter { $0.hasSuffix("interface cbdock0") }
            agents = ["dock-server", "dock-client"].flatMap { Self.inSSHMounts(lab, $0, list).split(separator: "\n").compactMap { Int32($0) } }
                .filter { ((try? String(contentsOfFile: "/proc/\($0)/cmdline", encoding: .utf8)) ?? "").contains("cloudbench-agent") }
            if bridges.count == 2 && agents.count >= 2 { break }
            usleep(100_000)
        }
        #expect(p.isRunning, "compare ended early: \(p.isRunning ? "" : String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))")
        #expect(agents.count >= 2, "agents in the containers: \(agents)")
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        let killed = Date()
        // The cell's client renews its host's lease until its test ends (6.5 s at most), then the
        // lease's expiry, a period for the watchdog's phase, and slack for a loaded machine.
        let period = LeaseTerms.period(hosts: 2)
        let limit = 6.5 + LeaseTerms.expiry(period: period) + 2 * period + 10
        func left() -> [String] {
            var found = lab.leftovers() + Self.runFiles(lab)
            found += agents.filter { ((try? String(contentsOfFile: "/proc/\($0)/cmdline", encoding: .utf8)) ?? "").contains("cloudbench-agent") }
                .map { "agent \($0) in a container" }
            for ns in lab.instances {
                if ((try? ns.run(["nft", "list", "tables"])) ?? "").contains("cloudbench_docker") { found.append("\(ns.name): NAT table") }
                if ((try? ns.run(["iptables", "-S", "FORWARD"])) ?? "").contains("CLOUDBENCH") { found.append("\(ns.name): FORWARD jump") }
                if ((try? ns.run(["cat", "/proc/sys/net/ipv4/ip_forward"])) ?? "?") != forwarding[ns.name] { found.append("\(ns.name): ip_forward") }
            }
            for instance in ["dock-server", "dock-client"] where Self.inSSHMounts(lab, instance, "ls -A /run/netns 2>/dev/null; true").contains("cbdock-") {
                found.append("\(instance): container namespace")
            }
            return found
        }
        var still = left()
        while !still.isEmpty && Date().timeIntervalSince(killed) < limit {
            usleep(250_000)
            still = left()
        }
        let took = Date().timeIntervalSince(killed)
        #expect(still == [], "still on the hosts \(Int(took)) s after the kill")
        print("lease, docker path: everything gone \(String(format: "%.1f", took)) s after SIGKILL")
    }
}
