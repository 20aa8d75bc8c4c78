import AgentContract
@testable import CloudbenchCore
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

    /// Runs `command` in `sh` until the shell exits (not until the end of the output: what it puts
    /// in the background keeps no pipe of ours), with `input` on its standard input.
    static func shell(_ command: String, input: String = "", in dir: String) throws -> (status: Int32, stdout: String, stderr: String) {
        let id = UUID().uuidString
        let inFile = "\(dir)/in-\(id)", outFile = "\(dir)/out-\(id)", errFile = "\(dir)/err-\(id)"
        try input.write(toFile: inFile, atomically: true, encoding: .utf8)
        defer { for f in [inFile, outFile, errFile] { unlink(f) } }
        // Only 0 to 2 handed on, as sshd does: this process's other descriptors (which Foundation
        // watches for the child's end) would keep a background job tied to the test.
        let closeOthers = "for fd in $(ls /proc/$$/fd); do [ $fd -gt 2 ] && eval \"exec $fd>&-\"; done; "
        let p = try ProcessRunner.start(["bash", "-c", closeOthers + "( \(command) ) < \(inFile) > \(outFile) 2> \(errFile)"])
        p.waitUntilExit()
        return (p.terminationStatus, (try? String(contentsOfFile: outFile, encoding: .utf8)) ?? "",
                (try? String(contentsOfFile: errFile, encoding: .utf8)) ?? "")
    }

    /// Starts the lease as compare does on a root host; returns the watchdog's pid.
    static func begin(_ lease: HostLease) throws -> Int32 {
        let started = Date()
        let out = try shell(lease.create(runID: "run-1") + "; " + lease.startWatchdog(), in: NSTemporaryDirectory())
        #expect(out.status == 0, "\(out)")
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

    @Test("a host whose cell just ended counts as renewed for one period: the orchestrator's renewal skips it, then renews again")
    func renewedByCell() {
        let shell = FakeShell(label: "h") { _ in CommandOutput(status: 0, stdout: "", stderr: "") }
        let host = RemoteHost(shell: shell, facts: HostFacts(arch: "x86_64", kernel: "6.1", home: "/root", uid: 0, glibc: "2.36", sudo: .missing),
                              sudoAllowed: false, agentSHA: "0")
        let t0 = Date(timeIntervalSince1970: 1_000_000)
        #expect(!host.leaseRenewed(within: LeaseTerms.period, now: t0), "never renewed: renew")
        host.leaseRenewed(at: t0)
        #expect(host.leaseRenewed(within: LeaseTerms.period, now: t0.addingTimeInterval(LeaseTerms.period - 0.1)))
        #expect(!host.leaseRenewed(within: LeaseTerms.period, now: t0.addingTimeInterval(LeaseTerms.period)))
        // An older note does not move the last renewal back.
        host.leaseRenewed(at: t0.addingTimeInterval(-5))
        #expect(host.leaseRenewed(within: LeaseTerms.period, now: t0.addingTimeInterval(1)))
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
}
