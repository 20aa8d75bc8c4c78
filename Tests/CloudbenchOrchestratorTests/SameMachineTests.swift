@testable import CloudbenchOrchestrator
import CloudbenchSSH
import CloudbenchTestSupport
import Foundation
import NetNS
import Testing

/// A shell that only says how it connected.
private final class KeyedShell: RemoteShell, @unchecked Sendable {
    let label: String
    let connection: ConnectionInfo?
    init(_ label: String, key: String) {
        self.label = label
        connection = ConnectionInfo(user: "root", auth: "-", hostKey: .known, hostKeyFingerprint: key)
    }
    func run(_ command: String, input: String?, timeout: Double) async throws -> CommandOutput {
        CommandOutput(status: 0, stdout: "", stderr: "")
    }
    func upload(localPath: String, remotePath: String, mode: Int32) async throws -> Bool { true }
}

@Suite("One machine under two addresses")
struct SameMachineTests {
    private func host(_ label: String, key: String) -> RemoteHost {
        RemoteHost(shell: KeyedShell(label, key: key),
                   facts: HostFacts(arch: "x86_64", kernel: "6.1", home: "/root", uid: 0, glibc: "2.36", sudo: .missing),
                   sudoAllowed: false, agentSHA: "0")
    }

    @Test("hosts with the same host key become one host for the scheduler, with a note naming both addresses")
    func merged() {
        let a = host("10.0.0.4", key: "SHA256:same"), b = host("203.0.113.4", key: "SHA256:same"), c = host("10.0.0.5", key: "SHA256:other")
        let (hosts, notes) = SameMachine.merge(["10.0.0.4:22": a, "203.0.113.4:22": b, "10.0.0.5:22": c])
        #expect(hosts["10.0.0.4:22"] === a && hosts["203.0.113.4:22"] === a && hosts["10.0.0.5:22"] === c)
        #expect(notes == ["hosts 10.0.0.4:22, 203.0.113.4:22 are one machine (same host key SHA256:same): scheduled as one host, never in two cells at once"])
        // The scheduler keeps one host out of two cells at once: the two pairs now share a key.
        let p1 = Set([ObjectIdentifier(hosts["10.0.0.4:22"]!), ObjectIdentifier(c)])
        let p2 = Set([ObjectIdentifier(hosts["203.0.113.4:22"]!)])
        #expect(!p1.isDisjoint(with: p2))
    }

    @Test("one lab host reached at two addresses shows the same fingerprint; another host does not", .enabled(if: getuid() == 0))
    func overSSH() async throws {
        let lab = try SSHLab()
        defer { lab.tearDown() }
        let h = try lab.addHost()
        let other = try lab.addHost()
        let (_, second) = try Link.veth(lab.client, h.namespace, subnet: "10.231.\(SSHLab.nextSubnet())")
        try lab.trust(h)
        try lab.trust(h, as: second.address)
        try lab.trust(other)
        let connector = SSHConnector(policy: .strict, socketFactory: lab.socketFactory)
        var twice = lab.sshHost(h, label: "second")
        twice.address = second.address
        let shells = [try await connector.connect(lab.sshHost(h, label: "first"), label: "first"),
                      try await connector.connect(twice, label: "second"),
                      try await connector.connect(lab.sshHost(other, label: "other"), label: "other")]
        let facts = HostFacts(arch: "x86_64", kernel: "6.1", home: "/root", uid: 0, glibc: "2.36", sudo: .missing)
        let hosts = shells.map { RemoteHost(shell: $0, facts: facts, sudoAllowed: false, agentSHA: "0") }
        let (merged, notes) = SameMachine.merge(["\(h.address):22": hosts[0], "\(second.address):22": hosts[1],
                                                 "\(other.address):22": hosts[2]])
        #expect(merged["\(h.address):22"] === merged["\(second.address):22"])
        #expect(merged["\(other.address):22"] === hosts[2])
        #expect(notes.count == 1)
    }
}
