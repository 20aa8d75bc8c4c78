import Foundation
import Testing
import NetNS

/// The built-in docker path on the lab (`Fixtures/docker-lab.yaml`): the agents in container
/// namespaces behind a bridge, NAT out, the agent's port published by DNAT, measured beside the
/// host path of the same pair; nothing of it is left after the run.
@Suite("docker path on the lab", .enabled(if: getuid() == 0, "needs root for the lab"), .serialized)
struct DockerPathLabTests {
    @Test("docker path cells measure through NAT with the datapath named bridge-nat; the host is as it was after")
    func dockerPath() throws {
        let lab = try LabRun(tag: "d", third: 216, profile: "docker-lab")
        defer { lab.down() }
        let forwarding = lab.instances.map { ns in (ns.name, (try? ns.run(["cat", "/proc/sys/net/ipv4/ip_forward"])) ?? "?") }
        let r = try lab.compare(["--parallel", "1"])
        #expect(r.status == 0, "\(r.stdout)\n\(r.stderr)")
        let records = try lab.records()
        #expect(records.count == 6 && records.allSatisfy { $0["status"] as? String == "ok" }, "\(records.map { ($0["path"] ?? "", $0["test"] ?? "", $0["error"] ?? "") })")
        func record(_ path: String, _ test: String) throws -> [String: Any] {
            try #require(records.first { $0["path"] as? String == path && $0["test"] as? String == test }, "no \(path) \(test) record")
        }
        for test in ["tcp_bw", "tcp_lat", "udp_bw"] {
            let docker = try record("docker", test)
            let datapath = (docker["detail"] as? [String: Any])?["datapath"] as? [String: Any] ?? [:]
            #expect(datapath["kind"] as? String == "bridge-nat" && datapath["device"] as? String == "cbdock0"
                    && datapath["product"] as? String == "cloudbench", "\(test): \(datapath)")
            let host = try record("host", test)
            let hostPath = (host["detail"] as? [String: Any])?["datapath"] as? [String: Any] ?? [:]
            #expect(hostPath["kind"] as? String == "native", "\(test) on host: \(hostPath)")
        }
        // The data crossed the NAT: the server's agent saw the client host's test IP, not the container's.
        let bw = try record("docker", "tcp_bw"), hostBW = try record("host", "tcp_bw")
        let dockerRate = try #require(bw["value"] as? Double), hostRate = try #require(hostBW["value"] as? Double)
        #expect(dockerRate > 1, "docker tcp_bw \(dockerRate) MB/s")
        let lat = try record("docker", "tcp_lat"), hostLat = try record("host", "tcp_lat")
        print("docker lab: tcp_bw host \(hostRate) MB/s, docker \(dockerRate) MB/s; tcp_lat host \(hostLat["value"] ?? "") docker \(lat["value"] ?? "")")
        let report = try String(contentsOfFile: lab.report, encoding: .utf8)
        #expect(report.contains("bridge-nat (cloudbench)"), "the report names the datapath")
        #expect(lab.leftovers() == [])
        // Nothing of the path is left on either host: no container namespace, no NAT table, and
        // ip_forward as it was before the run.
        for ns in lab.instances {
            let tables = (try? ns.run(["nft", "list", "tables"])) ?? ""
            #expect(!tables.contains("cloudbench_docker"), "\(ns.name): \(tables)")
            let forward = (try? ns.run(["iptables", "-S", "FORWARD"])) ?? ""
            #expect(!forward.contains("CLOUDBENCH"), "\(ns.name): \(forward)")
            let now = (try? ns.run(["cat", "/proc/sys/net/ipv4/ip_forward"])) ?? "?"
            #expect(now == forwarding.first { $0.0 == ns.name }?.1, "\(ns.name): ip_forward \(now)")
        }
        // The container namespaces were named in the SSH sessions' own mount namespace (the lab's
        // sshd runs in a private one): look there.
        for instance in ["dock-server", "dock-client"] {
            let pid = try #require(lab.sshdPid(instance), "no sshd pid for \(instance)")
            let named = try ProcessRunner.check(["nsenter", "--target", String(pid), "--mount", "ls", "-a", "/run/netns"])
            #expect(!named.contains("cbdock-"), "\(instance): \(named)")
        }
    }

    @Test("the docker path's data is forwarded into the container: a host that drops forwarded packets fails its docker cells, not its host cells")
    func forwardedIntoTheContainer() throws {
        let lab = try LabRun(tag: "f", third: 218, profile: "docker-lab", edit: {
            $0.replacingOccurrences(of: "tests: [tcp_bw, tcp_lat, udp_bw]", with: "tests: [tcp_lat]")
        })
        defer { lab.down() }
        let server = try #require(lab.instances.first { $0.name.hasSuffix("-dock-s") }, "\(lab.instances.map(\.name))")
        // A firewall on the server host that forwards nothing to the container network (the host's
        // own port stays open, so the reachability preflight passes).
        _ = try server.run(["nft", "-f", "-"], input: "table ip cbtest_fw {\nchain forward_drop {\ntype filter hook forward priority 0; policy accept;\nip daddr 10.254.252.0/24 drop\n}\n}\n")
        let r = try lab.compare(["--parallel", "1"])
        #expect(r.status != 0)
        let records = try lab.records()
        let host = records.filter { $0["path"] as? String == "host" }, docker = records.filter { $0["path"] as? String == "docker" }
        #expect(host.count == 1 && host.allSatisfy { $0["status"] as? String == "ok" }, "\(host)")
        #expect(!docker.isEmpty && docker.allSatisfy { $0["status"] as? String == "failed" }, "\(docker)")
        print("docker lab, forwarding dropped: \(docker.map { $0["error"] ?? "" })")
        #expect(docker.allSatisfy { ($0["error"] as? String ?? "").contains("a firewall there that drops forwarded packets stops it") }, "\(docker)")
        #expect(lab.leftovers() == [])
    }
}
