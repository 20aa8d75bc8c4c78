import Foundation
import NetNS
import Testing

/// What a Kubernetes node looks like to cloudbench, built on the lab's two instances: Calico-style
/// pods (a namespace per pod, a /32 route to it through a `cali…` veth, the pod subnets routed
/// natively between the instances), a Flannel-style `flannel.1` (kernel VXLAN, VNI 1, port 8472)
/// and a `flannel0` TUN carried by the agent's user-space UDP tunnel (port 8285).
///
/// Everything lives in namespaces named with the lab's prefix, so `lab down` removes it.
struct LabNode {
    let host: String
    let address: String
    let peer: String
    /// 1 on the server, 2 on the client.
    let index: Int
    var pod: String { "\(host)-pod" }
    var podAddress: String { "10.244.\(index).2" }

    static func run(_ argv: [String]) throws { _ = try ProcessRunner.check(argv) }

    /// The two nodes of a `pods-lab` lab (server first), from the instances' addresses in its inventory.
    static func nodes(of lab: LabRun) throws -> [LabNode] {
        let text = try String(contentsOfFile: lab.inventory, encoding: .utf8)
        let addresses = text.split(separator: "\n").filter { $0.contains("server: {") || $0.contains("client: {") }
            .compactMap { $0.firstMatch(of: /address: "?([0-9.]+)"?/).map { String($0.1) } }
        guard addresses.count == 2 else { throw CommandError(argv: [lab.inventory], status: 1, stderr: "no server and client address in the inventory") }
        return [LabNode(host: "cbl-\(lab.name)-pods-s", address: addresses[0], peer: addresses[1], index: 1),
                LabNode(host: "cbl-\(lab.name)-pods-c", address: addresses[1], peer: addresses[0], index: 2)]
    }

    /// Gives the lab inventory's server and client these `overlays` entries and the pair these `paths`.
    static func addOverlays(to lab: LabRun, server: String, client: String, paths: String) throws {
        var lines = try String(contentsOfFile: lab.inventory, encoding: .utf8)
            .split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        for (i, line) in lines.enumerated() {
            if line.hasPrefix("    server: {") { lines[i] = String(line.dropLast(2)) + ", overlays: { \(server) } }" }
            if line.hasPrefix("    client: {") { lines[i] = String(line.dropLast(2)) + ", overlays: { \(client) } }" }
            if line.hasPrefix("    paths: ") { lines[i] = "    paths: \(paths)" }
        }
        try lines.joined(separator: "\n").write(toFile: lab.inventory, atomically: true, encoding: .utf8)
    }

    /// - Parameter podExists: the pod's namespace is there already under its name (a container's,
    ///   attached with `ip netns attach`); otherwise a new one is made.
    func build(agent: String, podExists: Bool = false) throws {
        let peerIndex = 3 - index
        if !podExists { try Self.run(["ip", "netns", "add", pod]) }
        let veth = "cali\(index)a2b3c4d"
        try Self.run(["ip", "-n", host, "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", pod])
        for cmd in [["addr", "add", "\(podAddress)/32", "dev", "eth0"], ["link", "set", "lo", "up"], ["link", "set", "eth0", "up"],
                    ["route", "add", "169.254.1.1", "dev", "eth0", "scope", "link"],
                    ["route", "add", "10.244.0.0/16", "via", "169.254.1.1", "dev", "eth0"]] {
            try Self.run(["ip", "-n", pod] + cmd)
        }
        try Self.run(["ip", "-n", host, "addr", "add", "169.254.1.1/32", "dev", veth])
        try Self.run(["ip", "-n", host, "link", "set", veth, "up"])
        try Self.run(["ip", "-n", host, "route", "add", "\(podAddress)/32", "dev", veth])
        try Self.run(["ip", "-n", host, "route", "add", "10.244.\(peerIndex).0/24", "via", peer, "dev", "eth0"])
        try Self.run(["ip", "netns", "exec", host, "sysctl", "-qw", "net.ipv4.ip_forward=1", "net.ipv4.conf.all.rp_filter=0",
                      "net.ipv4.conf.default.rp_filter=0", "net.ipv4.conf.eth0.rp_filter=0", "net.ipv4.conf.\(veth).rp_filter=0"])
        // Flannel's VXLAN backend: flannel.1, VNI 1, UDP 8472.
        try Self.run(["ip", "-n", host, "link", "add", "flannel.1", "type", "vxlan", "id", "1", "local", address, "remote", peer,
                      "dstport", "8472", "dev", "eth0"])
        try Self.run(["ip", "-n", host, "link", "set", "flannel.1", "mtu", "1450", "up"])
        try Self.run(["ip", "-n", host, "addr", "add", "10.245.0.\(index)/24", "dev", "flannel.1"])
    }

    /// Flannel's UDP backend: flannel0, a TUN device read by a user-space process on UDP 8285 (the
    /// agent's tunnel, started here as a child of the test and stopped by `stopTunnel`).
    func startTunnel(agent: String) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["ip", "netns", "exec", host, agent, "tunnel", "--device", "flannel0", "--local", "\(address):8285",
                       "--peer", "\(peer):8285", "--address", "10.246.0.\(index)/30", "--mtu", "1448", "--deadline", "600"]
        // The tunnel reads its path key (the same on both ends) from the first line of stdin.
        let key = Pipe()
        p.standardInput = key
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        key.fileHandleForWriting.write(Data("podlab-flannel0-path-key-0123456789\n".utf8))
        try? key.fileHandleForWriting.close()
        for _ in 0..<50 {
            let out = (try? ProcessRunner.check(["ip", "-n", host, "-o", "addr", "show", "dev", "flannel0"])) ?? ""
            if out.contains(" 10.246.0.\(index)/") { return p }
            usleep(100_000)
        }
        p.terminate()
        p.waitUntilExit()
        throw CommandError(argv: p.arguments ?? [], status: 1, stderr: "the flannel0 tunnel did not come up in \(host)")
    }

    /// A process started by the test in the pod's namespace, so the pod has a `/proc/PID/ns/net`
    /// that every mount namespace sees (the lab's sshd does not see later `/var/run/netns` mounts).
    func holdPod() throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["ip", "netns", "exec", pod, "sleep", "900"]
        p.standardInput = FileHandle.nullDevice
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        return p
    }

    /// SIGKILL: a child started by the test may have SIGTERM blocked.
    static func stopTunnel(_ p: Process) {
        if p.isRunning { kill(p.processIdentifier, SIGKILL) }
        p.waitUntilExit()
    }
}

@Suite("pods and datapaths on the lab", .enabled(if: getuid() == 0, "needs root for the lab"), .serialized)
struct PodLabTests {
    @Test("Calico-style pods measured from inside their namespaces; every datapath the lab builds named on its records")
    func podsAndDatapaths() throws {
        let lab = try LabRun(tag: "p", third: 174, profile: "pods-lab")
        defer { lab.down() }
        let nodes = try LabNode.nodes(of: lab)
        var tunnels: [Process] = []
        defer { tunnels.forEach(LabNode.stopTunnel) }
        for n in nodes {
            try n.build(agent: "\(LabRun.bin)/cloudbench-agent")
            tunnels.append(try n.startTunnel(agent: "\(LabRun.bin)/cloudbench-agent"))
            tunnels.append(try n.holdPod())
        }
        usleep(300_000)
        let podPid = { (i: Int) in tunnels[2 * i + 1].processIdentifier }
        // Each pod by the namespace of a process in it (`netns:` and `/var/run/netns` paths are
        // not seen by the lab's sshd, whose mount namespace predates the pods).
        let overlays = [
            "calico: { address: 10.244.1.2, netns: \"path:/proc/\(podPid(0))/ns/net\" }, flannel: 10.245.0.1, flanneludp: 10.246.0.1",
            "calico: { address: 10.244.2.2, netns: \"path:/proc/\(podPid(1))/ns/net\" }, flannel: 10.245.0.2, flanneludp: 10.246.0.2",
        ]
        try LabNode.addOverlays(to: lab, server: overlays[0], client: overlays[1], paths: "[host, calico, flannel, flanneludp]")

        let r = try lab.compare()
        #expect(r.status == 0, "\(r.stdout)\n\(r.stderr)")
        let records = try lab.records()
        #expect(records.count == 4 * 2 && records.allSatisfy { $0["status"] as? String == "ok" }, "\(records.map { $0["error"] ?? "" })")
        func datapath(_ path: String) -> [String: Any]? {
            (records.first { $0["path"] as? String == path && $0["test"] as? String == "tcp_bw" }?["detail"] as? [String: Any])?["datapath"] as? [String: Any]
        }
        #expect(datapath("host")?["kind"] as? String == "native" && datapath("host")?["product"] is NSNull)
        #expect(datapath("calico")?["kind"] as? String == "native" && datapath("calico")?["product"] as? String == "Calico")
        let vx = datapath("flannel")
        #expect(vx?["kind"] as? String == "vxlan" && vx?["device"] as? String == "flannel.1" && vx?["product"] as? String == "Flannel")
        #expect(vx?["vni"] as? Double == 1 && vx?["port"] as? Double == 8472 && vx?["encap_overhead_bytes"] as? Double == 50)
        let tun = datapath("flanneludp")
        #expect(tun?["kind"] as? String == "tun-userspace" && tun?["device"] as? String == "flannel0" && tun?["port"] as? Double == 8285)
        // The pods' throughput is the link's: native routing adds no header.
        let value = { (p: String) in records.first { $0["path"] as? String == p && $0["test"] as? String == "tcp_bw" }?["value"] as? Double ?? 0 }
        #expect(value("calico") > 0.9 * value("host"), "calico \(value("calico")) vs host \(value("host")) MB/s")
        let report = try String(contentsOfFile: lab.report, encoding: .utf8)
        #expect(report.contains("## Datapaths") && report.contains("| vxlan (Flannel) on flannel.1, VNI 1, UDP 8472 |"), "\(report)")
        // No agent left in the instances or the pods (once the test's own tunnels are stopped).
        tunnels.forEach(LabNode.stopTunnel)
        #expect(lab.leftovers() == [])
        let inPod = ((try? ProcessRunner.check(["ip", "netns", "pids", nodes[0].pod])) ?? "").split(separator: "\n")
        #expect(inPod.allSatisfy { !(((try? String(contentsOfFile: "/proc/\($0)/cmdline", encoding: .utf8)) ?? "").contains("cloudbench-agent")) })
    }
}
