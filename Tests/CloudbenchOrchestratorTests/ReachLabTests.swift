import Foundation
import NetNS
import Testing

/// The reachability preflight on the lab: a server whose firewall (nftables, in its own
/// namespace) drops the agent's port and the vxlan port fails its pair alone, at once, with the
/// rule to open; the other pair is measured.
@Suite("reachability preflight on the lab", .enabled(if: getuid() == 0, "needs root for the lab"), .serialized)
struct ReachLabTests {
    @Test("a firewalled pair fails at its preflight with the port, direction and rule; the other pair completes; so does a group")
    func firewalledPair() throws {
        // Two groups over the pairs' hosts: one sends to the walled server too, one only to the open one.
        let lab = try LabRun(tag: "r", third: 170, profile: "reach-lab") { generated in
            generated + """
            groups:
              - { name: fan-walled, shape: fan_out, provider: aws, type: m4.large, client: { address: 10.231.170.11 },
                  servers: [{ address: 10.231.170.10 }, { address: 10.231.170.12 }] }
              - { name: fan-open, shape: fan_out, provider: aws, type: m4.large, client: { address: 10.231.170.13 },
                  servers: [{ address: 10.231.170.10 }] }

            """
        }
        defer { lab.down() }
        let server = "cbl-\(lab.name)-walled-s"
        let rules = "add table inet cbreach\n"
            + "add chain inet cbreach input { type filter hook input priority 0; }\n"
            + "add rule inet cbreach input tcp dport 5201 drop\n"
            + "add rule inet cbreach input udp dport 8472 drop\n"
        let nft = try ProcessRunner.run(["ip", "netns", "exec", server, "nft", "-f", "-"], input: Data(rules.utf8), deadline: 20)
        try #require(nft.status == 0, "nft: \(nft.stderr)")
        // `preflight --ports` says the same before any run.
        let pre = try ProcessRunner.run(["\(LabRun.bin)/cloudbench", "lab", "exec", "--name", lab.name, "--", "\(LabRun.bin)/cloudbench",
                                         "preflight", lab.inventory, "--providers", "\(LabRun.root)/providers", "--ports"], deadline: 300)
        #expect(pre.status == 1, "\(pre.stdout)\n\(pre.stderr)")
        #expect(pre.stdout.contains("pair open: open: TCP 5201 to the server, UDP 8472 to the server, UDP 8472 to the client\n"), "\(pre.stdout)")
        #expect(pre.stdout.contains("pair walled: reachability preflight: TCP 5201 (the agent port) from client "))
        #expect(pre.stdout.contains("group fan-open: open: TCP 5201 (the agent port of 10.231.170.10 from 10.231.170.13)\n"), "\(pre.stdout)")
        #expect(pre.stdout.contains("group fan-walled: reachability preflight: TCP 5201 (the agent port of 10.231.170.12 from 10.231.170.11) "
                                    + "from client 10.231.170.11 to server 10.231.170.12: no answer within 5 s"), "\(pre.stdout)")
        let started = Date()
        let r = try lab.compare()
        let took = Date().timeIntervalSince(started)
        #expect(r.status == 1, "\(r.stdout)\n\(r.stderr)")
        let records = try lab.records()
        let open = records.filter { $0["pair"] as? String == "open" }
        let walled = records.filter { $0["pair"] as? String == "walled" }
        #expect(open.count == 2 && open.allSatisfy { $0["status"] as? String == "ok" }, "\(open)")
        #expect(walled.count == 2 && walled.allSatisfy { $0["status"] as? String == "failed" })
        let error = walled.first?["error"] as? String ?? ""
        #expect(error.hasPrefix("reachability preflight: TCP 5201 (the agent port) from client "), "\(error)")
        #expect(error.contains("no answer within 5 s; open inbound TCP 5201 on the server — Azure: add an inbound security rule to its NSG: Allow TCP, destination port 5201, source "))
        #expect(error.contains("; UDP 8472 (the vxlan path) from client "))
        // The direction back was open: the client's inbound 8472 is not named.
        #expect(!error.contains("to client"))
        #expect(r.stderr.contains("pair walled: not run: reachability preflight: TCP 5201"))
        // The group that needs the walled server fails every step with the same reason; the other measures.
        let fanWalled = records.filter { $0["pair"] as? String == "fan-walled" }
        #expect(fanWalled.count == 1 && (fanWalled.first?["error"] as? String ?? "").hasPrefix("reachability preflight: TCP 5201 (the agent port of 10.231.170.12"),
                "\(fanWalled)")
        #expect(((fanWalled.first?["detail"] as? [String: Any])?["group"] as? [String: Any])?["step"] as? Double == 2)
        #expect(records.filter { $0["pair"] as? String == "fan-open" }.map { $0["status"] as? String } == ["ok"])
        #expect(r.stderr.contains("group fan-walled: not run: reachability preflight"), "\(r.stderr)")
        // Two probes of 5 s, not two cells each waiting out a connect timeout.
        #expect(took < 120)
        #expect(lab.leftovers() == [])
    }
}
