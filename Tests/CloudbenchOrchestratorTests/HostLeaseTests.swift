import AgentContract
@testable import CloudbenchOrchestrator
import CloudbenchProcess
import Foundation
import Testing

/// The host's lease and its watchdog, run by this machine's shell in a temporary home: the
/// commands compare sends, without a host.
@Suite("host lease and watchdog, in a local shell", .serialized)
struct HostLeaseTests {
    static func withHome(_ body: (RemoteLayout, HostLease) throws -> Void) throws {
        let home = NSTemporaryDirectory() + "cblease-\(getpid())-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: home) }
        let layout = RemoteLayout(home: home)
        let lease = HostLease(layout: layout)
        // What a watchdog left running if the test fails half-way.
        defer {
            if let p = try? String(contentsOfFile: lease.watchdogPidFile, encoding: .utf8), let pid = Int32(p.trimmingCharacters(in: .whitespacesAndNewlines)) {
                kill(pid, SIGKILL)
            }
        }
        try body(layout, lease)
    }

    /// Starts the lease as compare does on a root host; returns the watchdog's pid.
    static func begin(_ lease: HostLease) throws -> Int32 {
        let started = Date()
        let out = try ProcessRunner.run(["sh", "-c", lease.create(runID: "run-1") + "; " + lease.startWatchdog()], deadline: 10)
        #expect(out.status == 0 && !out.timedOut, "\(out)")
        #expect(Date().timeIntervalSince(started) < 3, "the command returns at once, the watchdog in the background")
        let pid = try #require(Int32(try String(contentsOfFile: lease.watchdogPidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(kill(pid, 0) == 0)
        return pid
    }

    static func waitGone(_ pid: Int32, within seconds: Double) -> Bool {
        let until = Date().addingTimeInterval(seconds)
        while Date() < until {
            // Reaped by init, or a zombie of ours: either way no longer running.
            if kill(pid, 0) != 0 { return true }
            if let s = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), s.contains(") Z ") { return true }
            usleep(50_000)
        }
        return false
    }

    @Test("the lease starts in one command that returns at once; the run's cleanup ends the watchdog and removes the lease")
    func beginAndCleanup() throws {
        try Self.withHome { layout, lease in
            let watchdog = try Self.begin(lease)
            #expect(try String(contentsOfFile: layout.leaseFile, encoding: .utf8) == "run-1\n")
            let cleaned = try ProcessRunner.run(["sh", "-c", layout.cleanupScript + "; " + layout.leftoversScript], deadline: 10)
            #expect(cleaned.stdout.isEmpty, "left: \(cleaned.stdout)")
            #expect(Self.waitGone(watchdog, within: 3))
            #expect(!FileManager.default.fileExists(atPath: layout.runDirectory))
        }
    }

    @Test("a lease not renewed for 3 periods: the watchdog stops what holds it and removes the run's files, not before")
    func expiry() throws {
        try Self.withHome { layout, lease in
            // A stand-in agent: `sleep` under the agent's name, with its pid file where compare keeps them.
            let fake = layout.runDirectory + "-bin/cloudbench-agent"
            try FileManager.default.createDirectory(atPath: layout.runDirectory + "-bin", withIntermediateDirectories: true)
            try FileManager.default.createSymbolicLink(atPath: fake, withDestinationPath: "/bin/sleep")
            let watchdog = try Self.begin(lease)
            let agent = try ProcessRunner.start([fake, "120"])
            defer { if agent.isRunning { agent.terminate() } }
            try "\(agent.processIdentifier)\n".write(toFile: layout.runDirectory + "/serve.pid", atomically: true, encoding: .utf8)
            // Renewed for two expiries' worth of time: everything stays.
            let renewUntil = Date().addingTimeInterval(LeaseTerms.expiry + LeaseTerms.period)
            while Date() < renewUntil {
                _ = try ProcessRunner.run(["sh", "-c", lease.renew], deadline: 5)
                usleep(UInt32(LeaseTerms.period * 1e6))
            }
            #expect(agent.isRunning && kill(watchdog, 0) == 0, "gone while the lease was renewed")
            // No more renewals: gone after 3 missed periods (a period more for the check's phase), not before.
            let stopped = Date()
            #expect(Self.waitGone(watchdog, within: LeaseTerms.expiry + 2 * LeaseTerms.period + 2))
            let took = Date().timeIntervalSince(stopped)
            #expect(took >= LeaseTerms.expiry - LeaseTerms.period, "ended after \(took) s")
            agent.waitUntilExit()
            #expect(agent.terminationReason == .uncaughtSignal && agent.terminationStatus == SIGTERM)
            #expect(!FileManager.default.fileExists(atPath: layout.runDirectory))
        }
    }
}
