import AgentKit
import Foundation
import NetNS
import Testing

/// The agent's group step (`run --servers`) and relay (issue 20), between real agents on the
/// loopback of a namespace of the test's own: every flow at once, one record; a refusal or a
/// broken relay route names its flow; the relay carries bytes only, the agents still authenticate.
@Suite("group steps and the relay, agents on a namespace's loopback", .enabled(if: getuid() == 0, "needs root for a namespace"), .serialized)
struct GroupAgentTests {
    /// A namespace with only `lo`, its agent servers on ports 6101… (run key `k6101`, …), and a relay.
    final class Hosts {
        let ns: Namespace
        var processes: [ChildProcess] = []
        var logs: [String] = []

        init() throws {
            ns = try Namespace.create(prefix: "cbg")
            do { try ns.run(["ip", "link", "set", "lo", "up"]) } catch { ns.delete(); throw error }
        }

        func log(_ name: String) -> String {
            (try? String(contentsOfFile: NSTemporaryDirectory() + "cbg-\(getpid())-\(name).log", encoding: .utf8)) ?? ""
        }

        /// Starts `arguments` in the namespace, its standard error in a log of its own, and waits for `ready` there.
        func start(_ name: String, _ arguments: [String], token: String? = nil, ready: String) throws {
            let path = NSTemporaryDirectory() + "cbg-\(getpid())-\(name).log"
            logs.append(path)
            _ = FileManager.default.createFile(atPath: path, contents: nil)
            let handle = FileHandle(forWritingAtPath: path)!
            processes.append(try ns.spawn([AgentBinary.path] + arguments, stdout: FileHandle(forWritingAtPath: "/dev/null"), stderr: handle,
                                          environment: token.map { ["CLOUDBENCH_AGENT_TOKEN": $0] }))
            try? handle.close()
            let until = Date().addingTimeInterval(10)
            while Date() < until {
                if log(name).contains(ready) { return }
                usleep(20_000)
            }
            throw HarnessError(message: "\(name) did not start: \(log(name))")
        }

        func server(_ port: Int) throws {
            try start("serve\(port)", ["serve", "--listen", "127.0.0.1:\(port)", "--deadline", "120"], token: "k\(port)", ready: "listening on")
        }

        /// `run --servers` with the run keys on standard input, as cloudbench passes them.
        func group(_ ports: [Int], keys: [String]? = nil, via: [Int]? = nil, _ extra: [String]) throws -> Outcome {
            let servers = ports.map { "127.0.0.1:\($0)" }.joined(separator: ",")
            let input = (keys ?? ports.map { "k\($0)" }).joined(separator: "\\n")
            var command = "printf '\(input)\\n' | \(AgentBinary.path) run --servers \(servers) --token-stdin --test tcp_bw --duration 1 --warmup 0.5 --json"
            if let via { command += " --via " + via.map { "127.0.0.1:\($0)" }.joined(separator: ",") }
            return try Outcome.run(["ip", "netns", "exec", ns.name, "sh", "-c", command + " " + extra.joined(separator: " ")], deadline: 60)
        }

        func close() {
            for p in processes { p.stop(grace: 0) }
            ns.delete()
            for l in logs { try? FileManager.default.removeItem(atPath: l) }
        }
    }

    @Test("fan-in: one receiver counts every flow over one window; the flows sum to the aggregate")
    func fanIn() throws {
        let hosts = try Hosts()
        defer { hosts.close() }
        for port in [6101, 6102, 6103] { try hosts.server(port) }
        let out = try hosts.group([6101, 6102, 6103], ["--reverse"])
        #expect(out.status == 0, "\(out.stderr)")
        let json = try #require(out.json)
        let flows = try #require(json["flows"] as? [[String: Any]])
        let rates = flows.compactMap { $0["bytes_per_second"] as? Double }
        let aggregate = try #require(json["receiver_bytes_per_second"] as? Double)
        #expect(rates.count == 3 && rates.allSatisfy { $0 > 0 }, "\(flows)")
        #expect(abs(rates.reduce(0, +) - aggregate) <= 1e-6 * aggregate, "\(rates) vs \(aggregate)")
        #expect(json["window"] as? String == "settled" && json["streams"] as? Int == 3 && json["direction"] as? String == "server_to_client")
        #expect(flows.map { $0["server"] as? String } == ["127.0.0.1:6101", "127.0.0.1:6102", "127.0.0.1:6103"])
        for port in [6101, 6102, 6103] { #expect(hosts.log("serve\(port)").contains("finished tcp_bw")) }
    }

    @Test("fan-out through the relay: each server receives its flow over a window opened at the warm-up; strays through the relay are the agent's to refuse")
    func throughTheRelay() throws {
        let hosts = try Hosts()
        defer { hosts.close() }
        for port in [6101, 6102] { try hosts.server(port) }
        try hosts.start("relay", ["relay", "--listen", "127.0.0.1", "--routes", "7101=127.0.0.1:6101,7102=127.0.0.1:6102,7103=127.0.0.1:6199",
                                  "--deadline", "120"], ready: "relaying")
        let out = try hosts.group([6101, 6102], via: [7101, 7102], [])
        #expect(out.status == 0, "\(out.stderr)")
        let json = try #require(out.json)
        #expect(json["window"] as? String == "fixed")
        #expect((json["flows"] as? [[String: Any]])?.compactMap { $0["bytes_per_second"] as? Double }.count == 2)
        for port in [6101, 6102] { #expect(hosts.log("serve\(port)").contains("finished tcp_bw"), "\(hosts.log("serve\(port)"))") }

        // A stranger through the relay reaches the agent, which drops it; the relay goes on.
        let stray = try Outcome.run(["ip", "netns", "exec", hosts.ns.name, "bash", "-c",
                                     "exec 3<>/dev/tcp/127.0.0.1/7101; printf 'GET / HTTP/1.0\\r\\n\\r\\n' >&3; sleep 0.3"], deadline: 10)
        #expect(stray.status == 0, "\(stray.stderr)")
        usleep(300_000)
        #expect(hosts.log("serve6101").contains("not a cloudbench-agent request"), "\(hosts.log("serve6101"))")
        #expect(try hosts.group([6101, 6102], via: [7101, 7102], []).status == 0)

        // A route to nothing: the step fails and names the flow and its server.
        let broken = try hosts.group([6101, 6102], via: [7101, 7103], [])
        #expect(broken.status == 1)
        #expect(broken.stderr.contains("flow 2 (127.0.0.1:6102)"), "\(broken.stderr)")
        #expect(hosts.log("relay").contains("could not reach 127.0.0.1:6199"))

        // With --allow (cloudbench passes the group's client), anyone else is refused at the relay.
        try hosts.start("relay2", ["relay", "--listen", "127.0.0.1", "--routes", "7201=127.0.0.1:6101", "--allow", "127.0.0.2",
                                   "--deadline", "120"], ready: "relaying")
        _ = try Outcome.run(["ip", "netns", "exec", hosts.ns.name, "bash", "-c",
                             "exec 3<>/dev/tcp/127.0.0.1/7201; printf 'x\\n' >&3 2>/dev/null; sleep 0.3"], deadline: 10)
        #expect(hosts.log("relay2").contains("refused a connection from 127.0.0.1: not the group's client"), "\(hosts.log("relay2"))")
    }

    @Test("a refused key fails the step before any data flows, naming the flow; the server that accepted is free again at once")
    func refusal() throws {
        let hosts = try Hosts()
        defer { hosts.close() }
        for port in [6101, 6102] { try hosts.server(port) }
        let out = try hosts.group([6101, 6102], keys: ["k6101", "wrong"], ["--reverse"])
        #expect(out.status == 1)
        #expect(out.stderr == "cloudbench-agent: flow 2: server at 127.0.0.1:6102 refused the test: token\n", "\(out.stderr)")
        // The first server accepted its test, saw the client go and is free for the next step, not after 10 s.
        usleep(500_000)
        #expect(hosts.log("serve6101").contains("the client closed its control connection"), "\(hosts.log("serve6101"))")
        let next = try hosts.group([6101, 6102], ["--reverse"])
        #expect(next.status == 0, "\(next.stderr)")
    }

    @Test("the command line: --servers needs a key per server on standard input, --via one address per server, tcp_bw one way")
    func commandLine() {
        func parse(_ args: [String], keys: [String] = ["a", "b"]) -> String {
            var lines = keys[...]
            do {
                _ = try Invocation.parse(args, environment: nil, standardInput: { lines.popFirst() })
                return "ok"
            } catch { return "\(error)" }
        }
        let base = ["run", "--servers", "10.0.0.1:5201,10.0.0.2:5201", "--test", "tcp_bw"]
        #expect(parse(base + ["--token-stdin"]) == "ok")
        #expect(parse(base + ["--token", "x"]).contains("--servers needs --token-stdin"))
        #expect(parse(base + ["--token-stdin"], keys: ["a"]).contains("2 servers and only 1 run keys"))
        #expect(parse(base + ["--token-stdin", "--via", "10.0.0.9:5202"]).contains("--via gives 1 addresses for 2 servers"))
        #expect(parse(["run", "--servers", "10.0.0.1:5201", "--test", "udp_bw", "--token-stdin"]).contains("tcp_bw in one direction only"))
        #expect(parse(["run", "--server", "10.0.0.1:5201", "--via", "10.0.0.9:1", "--test", "tcp_bw", "--token", "x"]).contains("--via is for --servers"))
        // What the orchestrator writes reads back as the same group step.
        var request = TestRequest(test: .tcpBandwidth)
        request.duration = 4
        request.reverse = true
        let written = AgentCommandLine.group(servers: ["10.0.0.1:5201", "10.0.0.2:5201"], via: ["10.0.0.9:5202", "10.0.0.9:5203"],
                                             request: request, lease: "/tmp/lease")
        var keys = ["a", "b"][...]
        guard case .run(let back) = try? Invocation.parse(written, environment: nil, standardInput: { keys.popFirst() }) else {
            Issue.record("\(written) does not parse")
            return
        }
        #expect(back.peers.map(\.description) == ["10.0.0.1:5201", "10.0.0.2:5201"] && back.peerTokens == ["a", "b"])
        #expect(back.dataAddresses.map(\.description) == ["10.0.0.9:5202", "10.0.0.9:5203"] && back.request == request && back.json)
        #expect(throws: (any Error).self) { try Relay.parse(["--listen", "127.0.0.1", "--routes", "7101=127.0.0.1:1,7101=127.0.0.1:2", "--deadline", "5"]) }
        #expect(throws: (any Error).self) { try Relay.parse(["--listen", "127.0.0.1", "--routes", "x=127.0.0.1:1", "--deadline", "5"]) }
        #expect((try? Relay.parse(["--listen", "127.0.0.1", "--routes", "7101=127.0.0.1:1", "--deadline", "5"]))?.routes.count == 1)
    }
}
