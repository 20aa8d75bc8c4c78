import AgentContract
@testable import CloudbenchOrchestrator
import CloudbenchProcess
import Foundation
import Testing

/// The host's lock (`HostLock`), run by this machine's shell in a temporary home: the commands
/// compare sends, without a host.
@Suite("host lock, in a local shell", .serialized)
struct HostLockTests {
    /// Runs `commands` in as many shells at the same moment (each waits for a start file, then
    /// runs its command); returns each one's exit status and standard output, in order.
    static func atOnce(_ commands: [String], in dir: String) throws -> [(status: Int32, stdout: String)] {
        let go = "\(dir)/go"
        let shells = try commands.enumerated().map { i, command in
            try ProcessRunner.start(["sh", "-c", "n=0; while [ ! -e \(go) ] && [ $n -lt 100000 ]; do n=$((n + 1)); done; "
                                     + "( \(command) ) > \(dir)/out-\(i) 2>&1"])
        }
        defer { for p in shells where p.isRunning { p.stop(grace: 0) } }
        usleep(300_000)  // every shell started and waiting
        FileManager.default.createFile(atPath: go, contents: nil)
        for p in shells { _ = p.wait(seconds: 20) }
        return shells.enumerated().map { i, p in
            (p.terminationStatus, (try? String(contentsOfFile: "\(dir)/out-\(i)", encoding: .utf8)) ?? "")
        }
    }

    static func withHome(_ body: (String, RemoteLayout) throws -> Void) throws {
        let dir = NSTemporaryDirectory() + "cblock-\(getpid())-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir + "/home", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try body(dir, RemoteLayout(home: dir + "/home"))
    }

    @Test("eight runs taking one host's lease at the same moment: exactly one gets it, the others are refused naming it")
    func oneOfManyAtOnce() throws {
        try Self.withHome { dir, layout in
            let lease = HostLease(layout: layout)
            // Five rounds: without the lock, each round had several winners (the check and the write interleave).
            for round in 1...5 {
                try? FileManager.default.removeItem(atPath: layout.runDirectory)
                try? FileManager.default.removeItem(atPath: "\(dir)/go")
                let results = try Self.atOnce((1...8).map { lease.create(runID: "run-\(round)-\($0)") }, in: dir)
                let winners = results.enumerated().filter { $0.element.status == 0 }
                #expect(winners.count == 1, "round \(round): \(results)")
                let holder = try String(contentsOfFile: layout.leaseFile, encoding: .utf8).trimmingCharacters(in: .newlines)
                #expect(winners.map { "run-\(round)-\($0.offset + 1)" } == [holder])
                for r in results where r.status != 0 {
                    #expect(r.status == HostLock.heldStatus, "\(r)")
                    #expect(HostLock.Held(host: "h", said: r.stdout).runID == holder)
                }
            }
            // The lock file stays beside the run folder; the run's cleanup leaves nothing in it.
            #expect(FileManager.default.fileExists(atPath: layout.lockFile))
            let cleaned = try ProcessRunner.run(["sh", "-c", layout.cleanupScript + "; " + layout.leftoversScript], deadline: 10)
            #expect(cleaned.stdout.isEmpty && !FileManager.default.fileExists(atPath: layout.runDirectory), "\(cleaned.stdout)")
        }
    }

    @Test("a second run's start-of-run cleanup leaves the holder's files alone; once the holder's lease is gone it cleans")
    func cleanupRespectsHolder() throws {
        try Self.withHome { dir, layout in
            let lease = HostLease(layout: layout)
            #expect(try ProcessRunner.run(["sh", "-c", lease.create(runID: "first")], deadline: 10).status == 0)
            let log = "\(layout.runDirectory)/serve-1.log"
            try "the first run's agent log\n".write(toFile: log, atomically: true, encoding: .utf8)
            let second = HostLock(layout: layout).unlessHeld(layout.cleanupScript, runID: "second")
            #expect(try ProcessRunner.run(["sh", "-c", second], deadline: 10).status == 0)
            #expect(FileManager.default.fileExists(atPath: log) && FileManager.default.fileExists(atPath: layout.leaseFile))
            // Its own run's cleanup is not held back by its own lease.
            #expect(try ProcessRunner.run(["sh", "-c", HostLock(layout: layout).unlessHeld(layout.cleanupScript, runID: "first")],
                                          deadline: 10).status == 0)
            #expect(!FileManager.default.fileExists(atPath: layout.runDirectory))
        }
    }

    @Test("a run over many hosts writes its longer period beside its lease; another run counts that run's expiry, not its own")
    func longerPeriod() throws {
        try Self.withHome { dir, layout in
            let big = HostLease(layout: layout, period: LeaseTerms.period(hosts: 240))
            #expect(try ProcessRunner.run(["sh", "-c", big.create(runID: "big")], deadline: 10).status == 0)
            let stated = try String(contentsOfFile: LeaseTerms.periodFile(of: layout.leaseFile), encoding: .utf8)
            #expect(stated == "12\n")
            func aged(_ seconds: Double) throws {
                try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-seconds)], ofItemAtPath: layout.leaseFile)
            }
            let small = HostLease(layout: layout)
            // 20 s without a renewal: past a 3 s period's expiry (9 s), within 3 periods of 12 s.
            try aged(20)
            let refused = try ProcessRunner.run(["sh", "-c", small.create(runID: "small")], deadline: 10)
            #expect(refused.status == HostLock.heldStatus && refused.stdout.contains("held=big"), "\(refused)")
            // The refusal says how long that run's lease lasts: 3 periods of 12 s.
            #expect(HostLock.Held(host: "h", said: refused.stdout).description.hasSuffix("a killed run lets go within 36 s)"), "\(refused)")
            // 40 s: that run's lease ran out; the small run takes the host and states its own period.
            try aged(40)
            let taken = try ProcessRunner.run(["sh", "-c", small.create(runID: "small")], deadline: 10)
            #expect(taken.status == 0, "\(taken)")
            #expect(try String(contentsOfFile: LeaseTerms.periodFile(of: layout.leaseFile), encoding: .utf8) == "3\n")
            // A period file in any other shape counts as 3 s: 20 s old, the lease has run out.
            for text in ["0\n", "61\n", "x\n", ""] {
                try text.write(toFile: LeaseTerms.periodFile(of: layout.leaseFile), atomically: true, encoding: .utf8)
                try aged(20)
                let other = try ProcessRunner.run(["sh", "-c", big.create(runID: "big-\(text.count)")], deadline: 10)
                #expect(other.status == 0, "'\(text)': \(other)")
            }
            // The run's cleanup removes the period file with the lease.
            _ = try ProcessRunner.run(["sh", "-c", layout.cleanupScript], deadline: 10)
            #expect(!FileManager.default.fileExists(atPath: LeaseTerms.periodFile(of: layout.leaseFile)))
        }
    }

    @Test("a host without flock: the lease is still taken and refused as before (unlocked)")
    func withoutFlock() throws {
        try Self.withHome { dir, layout in
            // A PATH of this machine's tools but flock.
            let bin = dir + "/bin"
            try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
            for tool in ["sh", "mkdir", "date", "stat", "head", "cat", "rm", "rmdir", "grep", "ip"] {
                if let path = try? ProcessRunner.resolve(tool) { try FileManager.default.createSymbolicLink(atPath: "\(bin)/\(tool)", withDestinationPath: path) }
            }
            let env = ["PATH": bin]
            let lease = HostLease(layout: layout)
            let first = try ProcessRunner.run(["/bin/sh", "-c", "command -v flock || " + lease.create(runID: "first")], environment: env, deadline: 10)
            #expect(first.status == 0 && first.stdout.isEmpty, "\(first)")
            let second = try ProcessRunner.run(["/bin/sh", "-c", lease.create(runID: "second")], environment: env, deadline: 10)
            #expect(second.status == HostLock.heldStatus && second.stdout.contains("held=first"), "\(second)")
        }
    }

    @Test("a host another run took while this one was away: after the reconnect it is lost for the run, never measured on again")
    func takenWhileAway() async throws {
        let inventory = fakeInventory(repetitions: 3)
        let pair = inventory.pairs[0]
        let away = Locked(false)
        var script = FakeHostScript()
        script.onClient = { _ in
            guard away.withLock({ was in defer { was = true }; return was }) else {
                throw RemoteError.unreachable(host: SSHTargets.label(pair.client), reason: "connection reset")
            }
            return nil
        }
        // Once it is back, the host's lease is another run's: taking it is refused as the host refuses it.
        script.onCommand = { command in
            guard away.value, command.contains("exit \(HostLock.heldStatus)") else { return nil }
            return CommandOutput(status: HostLock.heldStatus, stdout: "held=other-run\nage=1\n", stderr: "")
        }
        let connector = FakeConnector([pair.client.address: script])
        try await SchedulerTests.withRun(inventory, connector) { summary in
            #expect(summary.records.map(\.status) == [.failed, .failed, .failed])
            let client = connector.commands(to: SSHTargets.label(pair.client))
            #expect(client.filter { $0.contains(" run --server ") }.count == 1, "measured on a host another run holds")
            // Every cleanup sent to it (not the lease watchdog's own) checked the lease under the lock first.
            let cleanups = client.filter { $0.contains(SchedulerTests.cleanupMarker) && !$0.contains("lease watchdog") }
            #expect(cleanups.count >= 2 && cleanups.allSatisfy { $0.contains("flock -w") && $0.contains("head -c 200") }, "\(cleanups)")
        }
    }
}

