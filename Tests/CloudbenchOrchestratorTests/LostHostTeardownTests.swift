@testable import CloudbenchCore
@testable import CloudbenchOrchestrator
import CloudbenchProcess
import Foundation
import Testing

/// After a lost host, the survivor of its pair is torn down at once (issue 16): the cell's VXLAN
/// device and the rest of its side of the path do not wait for the end of the run.
@Suite("the survivor of a lost host")
struct LostHostTeardownTests {
    static let add = "ip link add \(RemoteLayout.vxlanDevice)", del = "ip link del \(RemoteLayout.vxlanDevice)"

    @Test("the client lost mid-cell: the server's side of the path goes right after the failure, before the run's cleanup")
    func clientLost() async throws {
        let inventory = fakeInventory(paths: [.vxlan], repetitions: 2)
        let pair = inventory.pairs[0]
        let connector = FakeConnector([:])
        connector.loseAtClientRun(pair.client)
        try await SchedulerTests.withRun(inventory, connector) { summary in
            #expect(summary.records.map(\.status) == [.failed, .failed])
            let server = connector.commands(to: SSHTargets.label(pair.server))
            let added = try #require(server.firstIndex { $0.contains(Self.add) })
            let runCleanup = try #require(server.lastIndex { $0.contains(SchedulerTests.cleanupMarker) })
            #expect(server[added..<runCleanup].contains { $0.contains(Self.del) }, "\(server)")
            // The lost client got nothing after its loss.
            let client = connector.commands(to: SSHTargets.label(pair.client))
            let lostAt = try #require(client.firstIndex { $0.contains(" run --server ") })
            #expect(client[lostAt...].dropFirst().isEmpty, "\(client[lostAt...])")
        }
    }

    @Test("the server lost while the path is set up: the client's side that was already made goes")
    func serverLostInSetup() async throws {
        let inventory = fakeInventory(paths: [.vxlan], repetitions: 1)
        let pair = inventory.pairs[0]
        let connector = FakeConnector([:])
        var dying = FakeHostScript()
        let label = SSHTargets.label(pair.server)
        dying.onCommand = { command in
            guard command.contains(Self.add) else { return nil }
            connector.refuse(pair.server.address)
            throw RemoteError.unreachable(host: label, reason: "connection lost")
        }
        connector.set(pair.server.address, dying)
        try await SchedulerTests.withRun(inventory, connector) { summary in
            #expect(summary.records.map(\.status) == [.failed])
            #expect(summary.records[0].error?.contains("connection lost") == true)
            let client = connector.commands(to: SSHTargets.label(pair.client))
            let added = try #require(client.firstIndex { $0.contains(Self.add) })
            let runCleanup = try #require(client.lastIndex { $0.contains(SchedulerTests.cleanupMarker) })
            #expect(client[added..<runCleanup].contains { $0.contains(Self.del) }, "\(client)")
            let server = connector.commands(to: label)
            let lostAt = try #require(server.firstIndex { $0.contains(Self.add) })
            #expect(!server[lostAt...].dropFirst().contains { $0.contains(Self.del) }, "\(server[lostAt...])")
        }
    }
}
