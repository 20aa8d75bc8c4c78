import Foundation
import Testing
@testable import CloudbenchCore
@testable import CloudbenchOrchestrator

@Suite("Reachability preflight values")
struct ReachabilityTests {
    static func pair(paths: [PathKind], tests: [TestKind] = [.tcpBandwidth], provider: String = "aws") -> Pair {
        var p = OrchestratorValueTests.pair()
        p.paths = paths
        p.tests = tests
        p.provider = provider
        return p
    }

    @Test("the ports a pair needs follow its paths and tests")
    func needed() {
        #expect(ReachProbe.needed(by: Self.pair(paths: [.host]), agentPort: 5201)
                == [ReachProbe(proto: .tcp, port: 5201, purpose: "the agent port", to: .server)])
        let all = ReachProbe.needed(by: Self.pair(paths: [.host, .vxlan, .udp], tests: [.tcpBandwidth, .udpBandwidth]), agentPort: 6000)
        #expect(all.map { "\($0.proto.rawValue) \($0.port) \($0.to.rawValue)" }
                == ["TCP 6000 server", "UDP 6000 server", "UDP 8472 server", "UDP 8472 client", "UDP 8285 server", "UDP 8285 client"])
        // The docker path publishes the agent's port on the server's test IP: the same port, probed once.
        #expect(ReachProbe.needed(by: Self.pair(paths: [.docker]), agentPort: 5201)
                == [ReachProbe(proto: .tcp, port: 5201, purpose: "the agent port", to: .server)])
        #expect(ReachProbe.needed(by: Self.pair(paths: [.host, .docker]), agentPort: 5201).count == 1)
        // An overlay the user runs is the user's to open: nothing is probed.
        #expect(ReachProbe.needed(by: Self.pair(paths: [.external("weave")]), agentPort: 5201).isEmpty)
    }

    @Test("each provider's rule names the port, the protocol and the source")
    func rules() {
        let r = FirewallRule(proto: .tcp, port: 5201, source: "10.0.0.5")
        #expect(r.advice(for: "aws") == "AWS: add an inbound rule to its security group: Custom TCP, port 5201, source 10.0.0.5/32")
        #expect(r.advice(for: "azure") == "Azure: add an inbound security rule to its NSG: Allow TCP, destination port 5201, source 10.0.0.5/32")
        #expect(r.advice(for: "digitalocean") == "DigitalOcean: add an inbound rule to its cloud firewall: TCP 5201, sources 10.0.0.5/32")
        let other = FirewallRule(proto: .udp, port: 8472, source: "fd00::5").advice(for: "hetzner")
        #expect(other.hasPrefix("open inbound UDP 8472 from fd00::5/128 (AWS: "))
        #expect(other.contains("Azure: ") && other.contains("DigitalOcean: "))
    }

    @Test("a closed port fails the pair with its direction and rule; a busy one is only noted")
    func judge() {
        let pair = Self.pair(paths: [.host, .vxlan], provider: "azure")
        let check = PairReachability(pair: pair, agentPort: 5201, timeout: 5, tag: "t")
        var report = ReachReport(pair: "p")
        let toServer = ReachProbe.needed(by: pair, agentPort: 5201).filter { $0.to == .server }
        check.judge(toServer, answered: "listening tcp 5201\nlistening udp 8472\nready\n", probed: "tcp 5201 timeout\nudp 8472 open\n", report: &report)
        #expect(report.closed.count == 1 && !report.ok)
        #expect(report.failure == "reachability preflight: TCP 5201 (the agent port) from client 10.0.0.5 to server 10.0.0.4: "
                + "no answer within 5 s; open inbound TCP 5201 on the server — Azure: add an inbound security rule to its NSG: "
                + "Allow TCP, destination port 5201, source 10.0.0.5/32")
        var back = ReachReport(pair: "p")
        let toClient = ReachProbe.needed(by: pair, agentPort: 5201).filter { $0.to == .client }
        check.judge(toClient, answered: "busy udp 8472: cannot bind UDP 10.0.0.5:8472: Address already in use\nready\n", probed: "", report: &back)
        #expect(back.ok && back.checked.isEmpty)
        #expect(back.notChecked == ["UDP 8472 on client 10.0.0.5: in use there, not checked (cannot bind UDP 10.0.0.5:8472: Address already in use)"])
        // A prober that printed nothing for a port did not reach it.
        var silent = ReachReport(pair: "p")
        check.judge(toServer, answered: "ready\n", probed: "udp 8472 refused\n", report: &silent)
        #expect(silent.closed.map(\.verdict) == ["unreachable", "refused"])
    }

    @Test("the answerer's and prober's command lines")
    func commands() {
        let check = PairReachability(pair: Self.pair(paths: [.host]), agentPort: 5201, timeout: 5, tag: "9-1-0")
        let probes = ReachProbe.needed(by: Self.pair(paths: [.host, .udp]), agentPort: 5201).filter { $0.to == .server }
        let start = check.startAnswer(agent: "/h/a", runDirectory: "/h/run", address: "10.0.0.4", probes: probes)
        #expect(start.contains("nohup /h/a reach-answer --listen 10.0.0.4 --tcp 5201 --udp 8285 --deadline 40 > /h/run/reach-9-1-0.log"))
        #expect(check.probeCommand(agent: "/h/a", address: "10.0.0.4", probes: probes) == "/h/a reach --server 10.0.0.4 --tcp 5201 --udp 8285 --timeout 5.0")
        #expect(check.stopAnswer(runDirectory: "/h/run").contains("rm -f /h/run/reach-9-1-0.pid /h/run/reach-9-1-0.log"))
    }
}

extension ReachabilityTests {
    @Test("a pair whose port is closed fails alone, each of its cells with the rule; the other pair runs")
    func pairFailsAlone() async throws {
        let connector = FakeConnector([:])
        var closed = FakeHostScript()
        closed.reachVerdict = "timeout"
        connector.set("192.0.2.11", closed)
        let inventory = fakeInventory(pairs: 2, repetitions: 2)
        let server = SSHTargets.label(inventory.pairs[0].server)
        try await SchedulerTests.withRun(inventory, connector) { summary in
            let failed = summary.records.filter { $0.pair == "p0" }
            #expect(failed.count == 2 && failed.allSatisfy { $0.status == .failed })
            #expect(failed.first?.error == "reachability preflight: TCP 5201 (the agent port) from client 10.0.0.5 to server 10.0.0.4: "
                    + "no answer within 5 s; open inbound TCP 5201 on the server — Azure: add an inbound security rule to its NSG: "
                    + "Allow TCP, destination port 5201, source 10.0.0.5/32")
            #expect(summary.records.filter { $0.pair == "p1" }.map(\.status) == [.ok, .ok])
        }
        // No agent server was started for the closed pair.
        #expect(!connector.commands(to: server).contains { $0.contains(" serve ") })
        #expect(connector.commands(to: server).contains { $0.contains(" reach-answer --listen 10.0.0.4 --tcp 5201 ") })
    }
}
