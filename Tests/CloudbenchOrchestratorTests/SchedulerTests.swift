@testable import CloudbenchCore
@testable import CloudbenchOrchestrator
import CloudbenchProcess
import Foundation
import Testing

/// The scheduler and the cell runner against scripted hosts: a lost host, a reconnect, tear-down
/// after a failure and a stop in the middle of a cell, in milliseconds and without root.
@Suite("Scheduler and cell runner on fake hosts")
struct SchedulerTests {
    /// A temporary results folder and agent file, removed after `body`.
    static func withRun<T>(_ inventory: Inventory, _ connector: FakeConnector, state: RunState = RunState(),
                           _ body: (CompareSummary) throws -> T) async throws -> T {
        let dir = NSTemporaryDirectory() + "cbsched-\(getpid())-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let agent = dir + "/agent"
        try Data("#!/bin/sh\n".utf8).write(to: URL(fileURLWithPath: agent))
        var options = CompareOptions()
        options.resultsDirectory = dir
        options.parallel = 2
        // A lost host is tried once: these hosts answer at once or never.
        options.reconnectWindow = 0
        let run = CompareRun(inventory: inventory, catalog: emptyCatalog, connector: connector,
                             agents: AgentBinaries(byArch: ["x86_64": agent]), options: options)
        let summary = try await run.run(state: state, progress: LogProgress(totalCells: 0, quiet: true))
        // Every record the run returns is on disk, once.
        let onDisk = try ResultStore.load(paths: [summary.resultsPath]).records
        #expect(onDisk.map(\.id) == summary.records.map(\.id))
        return try body(summary)
    }

    static let cleanupMarker = "rmdir \"$d\" 2>/dev/null; true"

    @Test("a failed cell is torn down: the server is stopped and every tear-down step runs, then the next cell runs")
    func teardownAfterFailure() async throws {
        let inventory = fakeInventory(paths: [.vxlan], repetitions: 2)
        let calls = Locked(0)
        var script = FakeHostScript()
        script.onClient = { _ in
            calls.withLock { $0 += 1; return $0 } == 1 ? CommandOutput(status: 3, stdout: "", stderr: "agent: connection refused\n") : nil
        }
        let pair = inventory.pairs[0]
        let connector = FakeConnector([pair.server.address: script, pair.client.address: script])
        try await Self.withRun(inventory, connector) { summary in
            #expect(summary.records.map(\.status) == [.failed, .ok])
            #expect(summary.records[0].error?.contains("the agent client failed (exit 3): agent: connection refused") == true)
            let server = connector.commands(to: SSHTargets.label(pair.server))
            let client = connector.commands(to: SSHTargets.label(pair.client))
            // After the failed client run: the server is stopped and the VXLAN device removed on both hosts,
            // before the second cell sets up again.
            let failedAt = try #require(client.firstIndex { $0.contains(" run --server ") })
            let secondSetup = try #require(client.indices.last { client[$0].contains("ip link add cbvx0") })
            #expect(client[failedAt..<secondSetup].contains { $0.contains("ip link del cbvx0") })
            let serverSecondSetup = try #require(server.indices.last { server[$0].contains("ip link add cbvx0") })
            let serverFirstSetup = try #require(server.firstIndex { $0.contains("ip link add cbvx0") })
            #expect(server[serverFirstSetup..<serverSecondSetup].contains { $0.contains("ip link del cbvx0") })
            // The failure asked the server host how its agent server is; it still runs, so the
            // second cell used the same one: one start in the run.
            #expect(server.contains { $0.contains("/proc/\(FakeHostScript.serverPid)/status") })
            #expect(server.filter { $0.contains(" serve --listen ") }.count == 1)
        }
    }

    @Test("a host lost for good fails its pair's remaining cells at once; other pairs go on")
    func lostHost() async throws {
        let inventory = fakeInventory(pairs: 2, tests: [.tcpBandwidth, .tcpLatency], repetitions: 2)
        let lostPair = inventory.pairs[0]
        let connector = FakeConnector([:])
        connector.loseAtClientRun(lostPair.client)
        let started = Date()
        try await Self.withRun(inventory, connector) { summary in
            #expect(Date().timeIntervalSince(started) < 5)
            let lost = summary.records.filter { $0.pair == lostPair.name }
            #expect(lost.count == 4 && lost.allSatisfy { $0.status == .failed })
            #expect(lost[0].error?.contains("unreachable: connection lost") == true)
            #expect(lost.dropFirst().allSatisfy { $0.error?.hasPrefix("not run: \(SSHTargets.label(lostPair.client)) became unreachable") == true })
            let other = summary.records.filter { $0.pair == inventory.pairs[1].name }
            #expect(other.count == 4 && other.allSatisfy { $0.status == .ok })
            // The lost host got no more commands after it was lost, and no cleanup at the end.
            let tried = connector.commands(to: SSHTargets.label(lostPair.client))
            #expect(tried.filter { $0.contains(" run --server ") }.count == 1)
            #expect(summary.leftovers.isEmpty)
        }
    }

    @Test("a host that comes back is reconnected, cleaned, and its next cells run")
    func reconnect() async throws {
        let inventory = fakeInventory(repetitions: 3)
        let pair = inventory.pairs[0]
        let calls = Locked(0)
        var flaky = FakeHostScript()
        flaky.onClient = { _ in
            if calls.withLock({ $0 += 1; return $0 }) == 1 {
                throw RemoteError.unreachable(host: SSHTargets.label(pair.client), reason: "connection reset")
            }
            return nil
        }
        let connector = FakeConnector([pair.client.address: flaky])
        try await Self.withRun(inventory, connector) { summary in
            #expect(summary.records.map(\.status) == [.failed, .ok, .ok])
            let clientShells = connector.shells.filter { $0.label == SSHTargets.label(pair.client) }
            #expect(clientShells.count == 2, "one connection, then one reconnect")
            // The new connection's first command removes what the broken cell left.
            #expect(clientShells[1].ran.first?.contains(Self.cleanupMarker) == true)
        }
    }

    @Test("a stop in the middle of a cell keeps no record of it, stops the hosts' processes over new connections, and runs nothing more")
    func stopMidCell() async throws {
        let inventory = fakeInventory(repetitions: 3)
        let pair = inventory.pairs[0]
        let state = RunState()
        let calls = Locked(0)
        let connector = FakeConnector([:])
        var script = FakeHostScript()
        script.onClient = { _ in
            guard calls.withLock({ $0 += 1; return $0 }) == 2 else { return nil }
            await state.stop()
            // As on a real host: the client returns once a second connection has killed the agents.
            let deadline = Date().addingTimeInterval(3)
            while connector.shells.filter({ $0.label == SSHTargets.label(pair.client) }).count < 2, Date() < deadline {
                try await Task.sleep(nanoseconds: 10_000_000)
            }
            return CommandOutput(status: 143, stdout: "", stderr: "Terminated\n")
        }
        connector.set(pair.client.address, script)
        try await Self.withRun(inventory, connector, state: state) { summary in
            #expect(summary.interrupted)
            #expect(summary.records.count == 1 && summary.records[0].status == .ok)
            let clientShells = connector.shells.filter { $0.label == SSHTargets.label(pair.client) }
            #expect(clientShells.count >= 2 && clientShells[1].ran.first?.contains(Self.cleanupMarker) == true)
            #expect(connector.commands(to: SSHTargets.label(pair.client)).filter { $0.contains(" run --server ") }.count == 2)
        }
    }

    @Test("a killed agent server is noticed when its cell fails, and the next cell starts a new one")
    func serverRestartedAfterItEnded() async throws {
        let inventory = fakeInventory(repetitions: 3)
        let pair = inventory.pairs[0]
        let calls = Locked(0)
        var client = FakeHostScript()
        client.onClient = { _ in
            calls.withLock { $0 += 1; return $0 } == 2 ? CommandOutput(status: 1, stdout: "", stderr: "agent: connection refused\n") : nil
        }
        var server = FakeHostScript()
        server.serverEnded = { true }
        let connector = FakeConnector([pair.client.address: client, pair.server.address: server])
        try await Self.withRun(inventory, connector) { summary in
            #expect(summary.records.map(\.status) == [.ok, .failed, .ok])
            #expect(summary.records[1].error?.contains("the agent server on \(SSHTargets.label(pair.server)) had ended") == true)
            let commands = connector.commands(to: SSHTargets.label(pair.server))
            #expect(commands.filter { $0.contains(" serve --listen ") }.count == 2)
        }
    }

    @Test("every host of the run gets a lease and its watchdog before its first cell; cleanup removes them")
    func leases() async throws {
        let inventory = fakeInventory(pairs: 2, repetitions: 1)
        let connector = FakeConnector([:])
        try await Self.withRun(inventory, connector) { summary in
            #expect(summary.records.allSatisfy { $0.status == .ok })
            for host in inventory.hosts {
                let commands = connector.commands(to: SSHTargets.label(host))
                let lease = try #require(commands.firstIndex { $0.contains("/lease") && $0.contains("lease watchdog") },
                                         "\(SSHTargets.label(host)): no lease")
                #expect(commands[lease].contains("echo 'fake-") || commands[lease].contains("echo fake-"))
                if let first = commands.firstIndex(where: { $0.contains(" serve --listen ") || $0.contains(" run --server ") }) {
                    #expect(lease < first)
                }
                #expect(commands.last?.contains("rm -f \"$d\"/*.log \"$d\"/lease") == true)
            }
        }
    }

    @Test("one path instance per path and round, serving that round's tests, closed before the next; one agent server per host for the run")
    func pathReusedWithinRound() async throws {
        // 2 rounds × (host, vxlan) × 2 tests = 8 cells on 4 path instances.
        let inventory = fakeInventory(paths: [.host, .vxlan], tests: [.tcpBandwidth, .tcpLatency], repetitions: 2)
        let pair = inventory.pairs[0]
        let connector = FakeConnector([:])
        try await Self.withRun(inventory, connector) { summary in
            #expect(summary.records.count == 8)
            #expect(summary.records.allSatisfy { $0.status == .ok })
            let server = connector.commands(to: SSHTargets.label(pair.server))
            let client = connector.commands(to: SSHTargets.label(pair.client))
            // One server for the run, on every address of the host, holding the host's lease, started
            // by its READY line (no polling of the port).
            let starts = server.filter { $0.contains("nohup") && $0.contains(" serve ") }
            #expect(starts.count == 1)
            #expect(starts.first?.contains("serve --listen 0.0.0.0:") == true && starts.first?.contains("--lease /home/u/.cache/cloudbench/run/lease") == true)
            #expect(!server.contains { $0.contains("ss -Hltn") })
            #expect(!client.contains { $0.contains(" serve ") })
            #expect(client.filter { $0.contains(" run --server ") }.count == 8)
            #expect(client.filter { $0.contains("ip link add cbvx0") }.count == 2)
            #expect(client.filter { $0.contains("ip -o route get") && !$0.contains("ip link add") }.count == 4)
            // The ideal time counts every cell's warm-up and duration (1 s each here), on one lane.
            #expect(summary.lanes == 1)
            #expect(summary.measuringSeconds == 8)
        }
    }
}
