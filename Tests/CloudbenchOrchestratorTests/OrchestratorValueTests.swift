import CloudbenchProcess
import Foundation
import Testing
import AgentKit
@testable import CloudbenchCore
@testable import CloudbenchOrchestrator

@Suite("Orchestrator values")
struct OrchestratorValueTests {
    static func pair() -> Pair {
        let ssh = SSHSettings.defaults
        return Pair(name: "p", provider: "azure", type: "A2", region: "r", placement: nil, price: nil, priceAsOf: nil,
                    server: Instance(role: .server, address: "192.0.2.10", testIP: "10.0.0.4", overlays: ["weave": "10.32.0.1"], ssh: ssh),
                    client: Instance(role: .client, address: "192.0.2.11", testIP: "10.0.0.5", overlays: ["weave": "10.32.0.2"], ssh: ssh),
                    paths: [.host], tests: [.tcpBandwidth], repetitions: 1)
    }
    let side = PathSetup.Side(agent: "/h/.cache/cloudbench/cloudbench-agent-x", runDirectory: "/h/.cache/cloudbench/run")

    @Test("each path's addresses and the interface its traffic must take")
    func paths() {
        let host = PathSetup.make(path: .host, pair: Self.pair(), server: side, client: side, deadline: 100, pathKey: "k")
        #expect(host.serverAddress == "10.0.0.4" && host.setup.isEmpty && host.expectedDevice == nil)
        let vx = PathSetup.make(path: .vxlan, pair: Self.pair(), server: side, client: side, deadline: 100, pathKey: "k")
        #expect(vx.serverAddress == "10.254.254.1" && vx.clientAddress == "10.254.254.2" && vx.expectedDevice == "cbvx0")
        #expect(vx.setup.count == 2 && vx.setup.allSatisfy(\.privileged))
        #expect(vx.setup[0].command.contains("local 10.0.0.4 remote 10.0.0.5 dstport 8472"))
        #expect(vx.setup[0].command.contains("mtu $((m - 50))") && vx.setup[0].command.contains(" nolearning "))
        #expect(vx.setup[0].command.contains("bridge fdb replace 02:cb:00:00:00:02 dev cbvx0 dst 10.0.0.5 permanent"))
        let udp = PathSetup.make(path: .udp, pair: Self.pair(), server: side, client: side, deadline: 100, pathKey: "k")
        #expect(udp.expectedDevice == "cbtun0" && udp.setup[1].command.contains("--local 10.0.0.5:8285 --peer 10.0.0.4:8285"))
        // IPv4 and UDP headers (28 bytes) and the datagram authenticator (24).
        #expect(udp.setup[0].command.contains("mtu $((m - 52))"))
        #expect(udp.setup.allSatisfy { $0.input == "k\n" && !$0.command.contains(" k ") })
        // The tunnel keeps its counts in the run directory; the client reads its host's there (`--tunnel-stats`).
        #expect(udp.setup.allSatisfy { $0.command.contains("--stats /h/.cache/cloudbench/run/tunnel.stats ") })
        #expect(udp.teardown.allSatisfy { $0.command.contains("rm -f /h/.cache/cloudbench/run/tunnel.pid /h/.cache/cloudbench/run/tunnel.log /h/.cache/cloudbench/run/tunnel.stats") })
        #expect(udp.clientTunnelStats == "/h/.cache/cloudbench/run/tunnel.stats" && host.clientTunnelStats == nil && vx.clientTunnelStats == nil)
        var inv = AgentInvocation(agent: "/a", runDirectory: "/r", token: "t", cellTag: "1")
        inv.tunnelStats = udp.clientTunnelStats
        let args = inv.clientArguments(address: "10.254.253.1", port: 7000, test: .tcpBandwidth, run: RunSettings())
        guard case .run(let parsed)? = try? Invocation.parse(args, environment: nil, standardInput: { "t" }) else {
            Issue.record("not a run: \(args)")
            return
        }
        #expect(parsed.tunnelStats == "/h/.cache/cloudbench/run/tunnel.stats")
        let weave = PathSetup.make(path: .external("weave"), pair: Self.pair(), server: side, client: side, deadline: 100, pathKey: "k")
        #expect(weave.serverAddress == "10.32.0.1" && weave.clientAddress == "10.32.0.2" && weave.setup.isEmpty)
    }

    @Test("the docker path: a container namespace per host, NAT out on both, the agent's port published on the server only")
    func dockerPath() {
        let d = PathSetup.make(path: .docker, pair: Self.pair(), server: side, client: side, deadline: 100, pathKey: "k", agentPort: 7000)
        // The client connects to the server's test IP, as a client of a published port does.
        #expect(d.serverAddress == "10.0.0.4" && d.clientAddress == "10.0.0.5" && d.expectedDevice == nil)
        #expect(d.serverNetns == "/var/run/netns/cbdock-10.0.0.4" && d.clientNetns == "/var/run/netns/cbdock-10.0.0.5")
        #expect(d.datapath == Datapath(kind: .bridgeNAT, device: "cbdock0", encapOverheadBytes: 0, product: "cloudbench"))
        #expect(d.setup.count == 2 && d.setup.allSatisfy(\.privileged) && d.teardown.count == 2)
        let server = d.setup.first { $0.role == .server }!.command, client = d.setup.first { $0.role == .client }!.command
        for c in [server, client] {
            #expect(c.contains("ip saddr 10.254.252.0/24 oifname != \\\"cbdock0\\\" masquerade"), "\(c)")
            #expect(c.contains("cat /proc/sys/net/ipv4/ip_forward > /h/.cache/cloudbench/run/ip_forward.saved"))
            #expect(c.hasPrefix("if command -v nft > /dev/null 2>&1 && nft list tables > /dev/null 2>&1; then fw=nft; elif command -v iptables"))
            #expect(c.contains("iptables -t nat -A CLOUDBENCH_DOCKER_POST -s 10.254.252.0/24 ! -o cbdock0 -j MASQUERADE"))
        }
        #expect(server.contains("ip daddr 10.0.0.4 tcp dport 7000 dnat to 10.254.252.2; ip daddr 10.0.0.4 udp dport 7000 dnat to 10.254.252.2"))
        #expect(server.contains("iptables -t nat -A CLOUDBENCH_DOCKER_PRE -d 10.0.0.4 -p udp --dport 7000 -j DNAT --to-destination 10.254.252.2"))
        #expect(!client.contains("dnat") && !client.contains("DNAT"))
        // FORWARD accepts the container's traffic first, where iptables works; new connections only to the published port.
        #expect(server.contains("iptables -A CLOUDBENCH_DOCKER_FWD -o cbdock0 -d 10.254.252.2 -p tcp --dport 7000 -j ACCEPT")
                && server.contains("iptables -I FORWARD 1 -j CLOUDBENCH_DOCKER_FWD"))
        #expect(client.contains("iptables -I FORWARD 1 -j CLOUDBENCH_DOCKER_FWD") && !client.contains("--dport 7000 -j ACCEPT"))
        // The tear-down is the cleanup's own removal, which puts ip_forward back.
        #expect(d.teardown.allSatisfy { $0.command == RemoteLayout.dockerRemoval(runDirectory: "/h/.cache/cloudbench/run") })
        #expect(RemoteLayout(home: "/h").cleanupScript.contains(RemoteLayout.dockerRemoval(runDirectory: "/h/.cache/cloudbench/run")))
        // An IPv6 pair fails its set-up with the reason, before touching the host.
        var v6 = Self.pair()
        v6.server.testIP = "2001:db8::4"
        v6.client.testIP = "2001:db8::5"
        let six = PathSetup.make(path: .docker, pair: v6, server: side, client: side, deadline: 100, pathKey: "k")
        #expect(six.setup.allSatisfy { $0.command.hasPrefix("echo 'the docker path is built for IPv4 test IPs") })
        #expect(PathKind(name: "docker") == .docker && PathKind.docker.needsRoot)
    }

    @Test("the route check refuses traffic that does not take its path")
    func routeCheck() {
        let vx = PathSetup.make(path: .vxlan, pair: Self.pair(), server: side, client: side, deadline: 100, pathKey: "k")
        #expect(RouteCheck.parse("cbvx0 1450 eth0\n")!.problem(for: vx) == nil)
        #expect(RouteCheck.parse("eth0 1500 eth0\n")!.problem(for: vx)
                == "traffic to 10.254.254.1 leaves through eth0, not cbvx0; the vxlan path is not in use")
        let weave = PathSetup.make(path: .external("weave"), pair: Self.pair(), server: side, client: side, deadline: 100, pathKey: "k")
        #expect(RouteCheck.parse("weave 1376 eth0")!.problem(for: weave) == nil)
        #expect(RouteCheck.parse("eth0 1500 eth0")!.problem(for: weave)
                == "traffic to 10.32.0.1 leaves through eth0, the hosts' own network, not overlay 'weave'")
        #expect(RouteCheck.parse("weave 1376 eth0")!.mtu == 1376)
    }

    @Test("one command reads the route and the datapath; a datapath that cannot be read leaves the route check whole")
    func routeWithDatapath() throws {
        // A route lookup of loopback on this machine: nothing is sent.
        let out = try ProcessRunner.run(["sh", "-c", RouteCheck.commandWithDatapath(to: "127.0.0.1", underlay: "127.0.0.1")], deadline: 20)
        #expect(out.status == 0)
        let parts = RouteCheck.split(out.stdout)
        #expect(RouteCheck.parse(parts.route)?.device == "lo")
        #expect(DatapathProbe.detect(try #require(parts.datapath)).device == "lo")
        // An address `ip` refuses: the route part says nothing usable and the datapath part is empty.
        let bad = try ProcessRunner.run(["sh", "-c", RouteCheck.commandWithDatapath(to: "300.1.1.1", underlay: "127.0.0.1")], deadline: 20)
        #expect(bad.status == 0)
        #expect(RouteCheck.split(bad.stdout).datapath == nil)
        #expect(RouteCheck.split("eth0 1500 eth0\n") == ("eth0 1500 eth0\n", nil))
    }

    @Test("the agent's headline figures", arguments: [
        (TestKind.tcpBandwidth, #"{"receiver_bytes_per_second": 24800000.0}"#, 24.8, "MB/s"),
        (TestKind.tcpLatency, #"{"latency_us": 94.2, "rtt_us": {"p50": 180}}"#, 94.2, "us"),
        (TestKind.udpBandwidth, #"{"receiver_bytes_per_second": 1.5e6, "loss_percent": 0.1}"#, 1.5, "MB/s"),
    ])
    func headline(test: TestKind, json: String, value: Double, unit: String) throws {
        let (h, _) = try AgentOutput.parse(json, test: test)
        #expect(abs(h.value - value) < 1e-9 && h.unit == unit)
    }

    @Test("agent output that is not a result is a named failure")
    func badOutput() {
        #expect(throws: AgentOutput.Problem.notJSON("Segmentation fault")) { try AgentOutput.parse("Segmentation fault\n", test: .tcpLatency) }
        #expect(throws: AgentOutput.Problem.missing("latency_us")) { try AgentOutput.parse("{}", test: .tcpLatency) }
    }

    @Test("resume skips cells with an ok record and numbers retries")
    func resume() {
        func rec(_ rep: Int, _ status: ResultRecord.Status, attempt: Int = 1) -> ResultRecord {
            ResultRecord(id: ResultRecord.makeID(runID: "r", pair: "p", path: "host", test: "tcp_bw", repetition: rep, attempt: attempt),
                         runID: "r", time: "t", pair: "p", provider: "azure", type: "A2", region: "", path: "host",
                         test: "tcp_bw", repetition: rep, status: status)
        }
        let state = ResumeState(records: [rec(1, .ok), rec(2, .failed), rec(2, .failed, attempt: 2)])
        #expect(state.isDone(Cell(pair: "p", path: .host, test: .tcpBandwidth, repetition: 1)))
        #expect(!state.isDone(Cell(pair: "p", path: .host, test: .tcpBandwidth, repetition: 2)))
        #expect(state.nextAttempt(Cell(pair: "p", path: .host, test: .tcpBandwidth, repetition: 2)) == 3)
        #expect(state.nextAttempt(Cell(pair: "p", path: .host, test: .tcpBandwidth, repetition: 3)) == 1)
    }

    @Test("run ids are the inventory name and the UTC time")
    func runID() {
        #expect(makeRunID(name: "lab", at: Date(timeIntervalSince1970: 1_795_000_000)) == "lab-20261118-110640")
    }
}
