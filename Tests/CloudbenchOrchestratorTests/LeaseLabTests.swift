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
}
