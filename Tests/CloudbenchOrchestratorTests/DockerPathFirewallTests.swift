import CloudbenchProcess
import Foundation
import NetNS
import Testing
@testable import CloudbenchCore
@testable import CloudbenchOrchestrator

/// The docker path's set-up and tear-down commands run as they are on two scratch "hosts"
/// (network namespaces joined by a veth), through each firewall a host may have: nftables, or
/// iptables where `nft` is missing or cannot list tables (a stand-in `nft` that fails, first on
/// the PATH). Both hosts' FORWARD policy is DROP, as Docker and ufw leave it. A connection from the
/// client's container to the server's test IP reaches a listener in the server's container;
/// afterwards nothing of the path is left.
@Suite("docker path NAT rules, nftables or iptables", .enabled(if: getuid() == 0, "needs root for namespaces"), .serialized)
struct DockerPathFirewallTests {
    @Test("published port and MASQUERADE work and are removed", arguments: ["nft", "iptables"])
    func natRules(firewall: String) throws {
        let server = try Namespace.create(prefix: "cbt")
        defer { server.delete() }
        let client = try Namespace.create(prefix: "cbt")
        defer { client.delete() }
        let subnet = firewall == "nft" ? "10.231.226" : "10.231.227"
        let (se, ce) = try Link.veth(server, client, subnet: subnet)
        let dir = NSTemporaryDirectory() + "cbt-dockfw-\(getpid())-\(firewall)"
        try FileManager.default.createDirectory(atPath: "\(dir)/bin", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        if firewall == "iptables" {
            try "#!/bin/sh\necho 'nft: this stand-in cannot list tables' >&2\nexit 1\n".write(toFile: "\(dir)/bin/nft", atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: "\(dir)/bin/nft")
            path = "\(dir)/bin:" + path
        }
        let ssh = SSHSettings.defaults
        let pair = Pair(name: "p", provider: "lab", type: "t", region: "r", placement: nil, price: nil, priceAsOf: nil,
                        server: Instance(role: .server, address: se.address, testIP: se.address, overlays: [:], ssh: ssh),
                        client: Instance(role: .client, address: ce.address, testIP: ce.address, overlays: [:], ssh: ssh),
                        paths: [.docker], tests: [.tcpBandwidth], repetitions: 1)
        let port = 7300
        let setup = PathSetup.make(path: .docker, pair: pair, server: .init(agent: "/nonexistent", runDirectory: "\(dir)/server"),
                                   client: .init(agent: "/nonexistent", runDirectory: "\(dir)/client"), deadline: 60, pathKey: "k", agentPort: port)
        // As a host's shell runs them: in the host's network namespace, nothing else changed.
        func onHost(_ role: Instance.Role, _ command: String) throws -> String {
            let ns = role == .server ? server : client
            return try ProcessRunner.check(["env", "PATH=\(path)", "nsenter", "--net=/var/run/netns/\(ns.name)", "sh", "-c", command])
        }
        let forwarding = try [Instance.Role.server, .client].map { try onHost($0, "cat /proc/sys/net/ipv4/ip_forward") }
        // Both hosts forward nothing by default, as Docker and ufw leave FORWARD.
        for role in [Instance.Role.server, .client] { _ = try onHost(role, "iptables -P FORWARD DROP") }
        let containers = [setup.serverNetns!, setup.clientNetns!]
        defer {
            for step in setup.teardown { _ = try? onHost(step.role, step.command) }
            for c in containers where FileManager.default.fileExists(atPath: c) { _ = try? ProcessRunner.check(["ip", "netns", "del", String(c.split(separator: "/").last!)]) }
        }
        for step in setup.setup { _ = try onHost(step.role, step.command) }
        let rules = try onHost(.server, firewall == "nft" ? "nft list table ip cloudbench_docker" : "iptables -t nat -S CLOUDBENCH_DOCKER_PRE")
        #expect(rules.contains(firewall == "nft" ? "dnat to 10.254.252.2" : "--to-destination 10.254.252.2"), "\(rules)")

        // A listener in the server's container on the published port; a client in the client's container.
        let listener = """
        import socket
        s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("0.0.0.0", \(port))); s.listen(1); s.settimeout(10)
        c, a = s.accept(); c.sendall(("seen " + a[0] + " " + c.recv(16).decode()).encode()); c.close()
        """
        let out = Pipe()
        let p = try ProcessRunner.start(["nsenter", "--net=\(containers[0])", "python3", "-c", listener], stdout: out, stderr: FileHandle.nullDevice)
        defer { if p.isRunning { kill(p.processIdentifier, SIGKILL) }; p.waitUntilExit() }
        let dialer = """
        import socket, time
        for i in range(50):
            try:
                s = socket.create_connection(("\(se.address)", \(port)), 2); break
            except OSError: time.sleep(0.1)
        s.sendall(b"hello"); print(s.recv(64).decode())
        """
        let said = try ProcessRunner.check(["nsenter", "--net=\(containers[1])", "python3", "-c", dialer])
        // The server's container saw the client host's test IP (MASQUERADE), not the container's own.
        #expect(said.trimmingCharacters(in: .whitespacesAndNewlines) == "seen \(ce.address) hello", "\(said)")

        for step in setup.teardown { _ = try onHost(step.role, step.command) }
        for c in containers { #expect(!FileManager.default.fileExists(atPath: c), "\(c) is still there") }
        #expect(try [Instance.Role.server, .client].map { try onHost($0, "cat /proc/sys/net/ipv4/ip_forward") } == forwarding)
        for role in [Instance.Role.server, .client] {
            let left = try onHost(role, RemoteLayout(home: dir).leftoversScript)
            #expect(!left.contains("interface") && !left.contains("table") && !left.contains("chain"), "\(role): \(left)")
            let links = try onHost(role, "ip -o link show")
            #expect(!links.contains("cbdock"), "\(links)")
            // FORWARD as it was: the policy kept, no jump to cloudbench's chain.
            let forward = try onHost(role, "iptables -S FORWARD")
            #expect(forward == "-P FORWARD DROP\n", "\(role): \(forward)")
        }
    }
}
