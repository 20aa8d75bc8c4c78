import AgentKit
import CloudbenchProcess
import Foundation
@testable import CloudbenchCore
@testable import CloudbenchOrchestrator
import Testing

/// The orchestrator writes the agent's command line from the agent's own request type; the
/// agent's parser must read back exactly what was meant.
@Suite("Agent command line, both sides")
struct AgentContractTests {
    static func settings(duration: Int, warmup: Int) -> RunSettings {
        var run = RunSettings()
        run.duration = DurationValue(milliseconds: duration)
        run.warmup = DurationValue(milliseconds: warmup)
        run.streams = [4]
        run.messageSize = 1 << 20
        run.udpRate = 12_500_000
        run.httpSize = 1_000_000
        run.httpCount = 20
        return run
    }

    @Test("every test's client arguments parse back into the request they were built from",
          arguments: TestKind.allCases, [(10_000, 2_000), (500, 0), (2_500, 250)])
    func roundTrip(test: TestKind, times: (Int, Int)) throws {
        let run = Self.settings(duration: times.0, warmup: times.1)
        let variant = CellVariant(streams: 4)
        let invocation = AgentInvocation(agent: "/a", runDirectory: "/r", token: "secret-token", cellTag: "1")
        let args = invocation.clientArguments(address: "fd00::1", port: 7000, test: test, run: run, variant: variant)
        #expect(!args.contains("secret-token") && !args.contains("--token") && args.contains("--token-stdin"))
        #expect(!invocation.runClient(address: "fd00::1", port: 7000, test: test, run: run).contains("secret-token"))
        guard case .run(let parsed) = try Invocation.parse(args, environment: nil, standardInput: { "secret-token" }) else {
            Issue.record("not a run: \(args)")
            return
        }
        #expect(parsed.request == AgentInvocation.request(test: test, run: run, variant: variant), "\(args)")
        #expect(parsed.server.description == "[fd00::1]:7000" && parsed.json && parsed.token == "secret-token")
        if test == .tcpBandwidth {
            #expect(parsed.request.streams == 4 && parsed.request.messageSize == 1 << 20
                    && parsed.request.duration == Double(times.0) / 1000)
        }
    }

    @Test("a cell's direction, stream count and rate search reach the agent's command line and parse back", arguments: [
        (TestKind.tcpBandwidth, CellVariant(direction: .serverToClient, streams: 8), ["--reverse", "--streams", "8"]),
        (.tcpBandwidth, CellVariant(direction: .bidirectional), ["--bidir"]),
        (.udpBandwidth, CellVariant(direction: .serverToClient, udpRateSearch: true), ["--reverse", "--rate-search"]),
        (.udpBandwidth, CellVariant.plain, []),
        (.udpPackets, CellVariant(direction: .serverToClient, udpRateSearch: true), ["--reverse", "--rate-search"]),
    ])
    func variants(test: TestKind, variant: CellVariant, flags: [String]) throws {
        let invocation = AgentInvocation(agent: "/a", runDirectory: "/r", token: "t", cellTag: "1")
        let args = invocation.clientArguments(address: "10.0.0.4", port: 7000, test: test, run: RunSettings(), variant: variant)
        for f in ["--reverse", "--bidir", "--rate-search", "--streams"] { #expect(args.contains(f) == flags.contains(f), "\(args)") }
        if let i = args.firstIndex(of: "--streams") { #expect(args[i + 1] == "8") }
        guard case .run(let parsed) = try Invocation.parse(args, environment: nil, standardInput: { "t" }) else {
            Issue.record("not a run: \(args)")
            return
        }
        #expect(parsed.request == AgentInvocation.request(test: test, run: RunSettings(), variant: variant))
        #expect(parsed.rateSearch == variant.udpRateSearch)
    }

    @Test("the server's command line names its address, deadline and lease, never the token")
    func serve() throws {
        let invocation = AgentInvocation(agent: "/a", runDirectory: "/r", token: "secret-token", cellTag: "1")
        let line = invocation.startServer(listen: "0.0.0.0", port: 7000, deadlineSeconds: 90, lease: "/r/lease")
        #expect(line.contains("nohup /a serve --listen 0.0.0.0:7000 --deadline 90 --lease /r/lease --token-stdin "
                              + "--tunnel-stats /r/tunnel.stats 2>>/r/serve.log"))
        var inPod = invocation
        inPod.netns = "/proc/1/ns/net"
        #expect(!inPod.startServer(listen: "0.0.0.0", port: 7000, deadlineSeconds: 90, lease: "/r/lease").contains("--tunnel-stats"),
                "a server in a namespace has no tunnel of the udp path")
        #expect(!line.contains("secret-token") && invocation.tokenInput == "secret-token\n")
        #expect(!line.contains("ss ") && !line.contains("sleep"), "started by its READY line, not by polling")
        guard case .serve(let s) = try Invocation.parse(AgentCommandLine.serve(listen: "10.0.0.4:7000", deadline: 90, lease: "/r/lease",
                                                                                tokenOnStandardInput: true),
                                                        environment: nil, standardInput: { "t" }) else { Issue.record("not serve"); return }
        #expect(s.deadline == 90 && s.listen.description == "10.0.0.4:7000" && s.token == "t" && s.lease == "/r/lease")
        guard case .serve(let t) = try Invocation.parse(AgentCommandLine.serve(listen: "10.0.0.4:7000", deadline: 90, tunnelStats: "/r/tunnel.stats"),
                                                        environment: "t") else { Issue.record("not serve"); return }
        #expect(t.tunnelStats == "/r/tunnel.stats")
        #expect(AgentInvocation.readyPid("READY pid=4242 port=7000\n", port: 7000) == 4242)
        for bad in ["READY pid=4242 port=7001\n", "READY pid= port=7000", "READY pid=x port=7000", "", "listening", "READY pid=1 port=7000"] {
            #expect(AgentInvocation.readyPid(bad, port: 7000) == nil, "\(bad)")
        }
    }

    /// A stand-in agent: reads the key, then behaves as `body` says.
    static func withFakeAgent(_ body: String, _ test: (AgentInvocation, String) throws -> Void) throws {
        let dir = NSTemporaryDirectory() + "cbserve-\(getpid())-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let agent = dir + "/cloudbench-agent"
        try ("#!/bin/sh\nread key\n[ \"$key\" = secret-token ] || exit 3\n" + body).write(toFile: agent, atomically: true, encoding: .utf8)
        chmod(agent, 0o755)
        try test(AgentInvocation(agent: agent, runDirectory: dir + "/run", token: "secret-token", cellTag: "1"), dir + "/run")
    }

    @Test("the start command returns on the server's READY line while it runs on, and records its pid")
    func startByEvent() throws {
        // Says READY, lets go of its output, and serves on (30 s at most).
        try Self.withFakeAgent("echo \"READY pid=$$ port=7000\"; exec >/dev/null; echo serving >&2; exec sleep 30\n") { invocation, run in
            let started = Date()
            let out = try HostLeaseTests.shell(invocation.startServer(listen: "0.0.0.0", port: 7000, deadlineSeconds: 90, lease: "\(run)/lease"),
                                               input: invocation.tokenInput, in: NSTemporaryDirectory())
            let pid = try #require(AgentInvocation.readyPid(out.stdout, port: 7000), "\(out)")
            defer { kill(pid, SIGKILL) }
            #expect(out.status == 0 && Date().timeIntervalSince(started) < 5)
            #expect(kill(pid, 0) == 0, "the server runs on after READY")
            let recorded = try String(contentsOfFile: "\(run)/serve.pid", encoding: .utf8)
            #expect(recorded == "\(pid)\n")
        }
    }

    @Test("a server that exits before READY fails the start with its log")
    func startFails() throws {
        try Self.withFakeAgent("echo 'cloudbench-agent: cannot listen on 0.0.0.0:7000: Address in use' >&2; exit 1\n") { invocation, run in
            let out = try ProcessRunner.run(["sh", "-c", invocation.startServer(listen: "0.0.0.0", port: 7000, deadlineSeconds: 90, lease: "\(run)/lease")],
                                            input: Data(invocation.tokenInput.utf8), deadline: 20)
            #expect(out.status == 1)
            #expect(out.stderr.contains("cannot listen on 0.0.0.0:7000"))
            #expect(!FileManager.default.fileExists(atPath: "\(run)/serve.pid"))
        }
    }
}
