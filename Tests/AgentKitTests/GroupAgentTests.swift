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
        func group(_ ports: [Int], keys: [String]? = nil, via: [Int]? = nil, pool: String? = nil, _ extra: [String],
                   deadline: Double = 60) throws -> Outcome {
            let servers = ports.map { "127.0.0.1:\($0)" }.joined(separator: ",")
            let input = ((keys ?? ports.map { "k\($0)" }) + (pool.map { [$0] } ?? [])).joined(separator: "\\n")
            var command = "printf '\(input)\\n' | \(AgentBinary.path) run --servers \(servers) --token-stdin --test tcp_bw --duration 1 --warmup 0.5 --json"
            if let via { command += " --via " + via.map { "127.0.0.1:\($0)" }.joined(separator: ",") }
            return try Outcome.run(["ip", "netns", "exec", ns.name, "sh", "-c", command + " " + extra.joined(separator: " ")], deadline: deadline)
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
        // 24 streams a server, every connection opened before any is introduced.
        let wide = try hosts.group([6101, 6102], ["--reverse", "--streams", "24"])
        #expect(wide.status == 0 && wide.json?["streams"] as? Int == 48, "\(wide.stderr)")
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

    @Test("through a balancer of the user's own (nftables DNAT, round robin): every flow lands, is counted by the server it landed on, and says where")
    func throughABalancer() throws {
        let hosts = try Hosts()
        defer { hosts.close() }
        for port in [6101, 6102, 6103] { try hosts.server(port) }
        // The kernel's load balancer, as kube-proxy or a NAT instance runs it: port 7000 round robin over
        // 6101 and 6102; port 7001 to 6101 and to 6103, whose server is not one of the step's; 7002 to nothing.
        try hosts.ns.run(["nft", "-f", "-"], input: """
            table ip cbtest {
              chain out {
                type nat hook output priority -100;
                ip daddr 127.0.0.1 tcp dport 7000 dnat to numgen inc mod 2 map { 0 : 127.0.0.1 . 6101, 1 : 127.0.0.1 . 6102 }
                ip daddr 127.0.0.1 tcp dport 7001 dnat to numgen inc mod 2 map { 0 : 127.0.0.1 . 6101, 1 : 127.0.0.1 . 6103 }
                ip daddr 127.0.0.1 tcp dport 7002 dnat to 127.0.0.1:6199
              }
            }
            """)
        func through(_ port: Int, flows: Int) -> [String] {
            ["--flows", "\(flows)", "--send", (0..<flows).map { "\($0)=127.0.0.1:\(port)" }.joined(separator: ",")]
        }
        let out = try hosts.group([6101, 6102], pool: TestKey.randomID(), through(7000, flows: 4))
        #expect(out.status == 0, "\(out.stderr)")
        let json = try #require(out.json)
        let flows = try #require(json["flows"] as? [[String: Any]])
        let rates = flows.compactMap { $0["bytes_per_second"] as? Double }
        #expect(rates.count == 4 && rates.allSatisfy { $0 > 0 }, "\(flows)")
        let aggregate = try #require(json["receiver_bytes_per_second"] as? Double)
        #expect(abs(rates.reduce(0, +) - aggregate) <= 1e-6 * aggregate, "\(rates) vs \(aggregate)")
        // Round robin: every other connection to each server, and each flow says which.
        #expect(Set(flows.compactMap { $0["server"] as? String }) == ["127.0.0.1:6101", "127.0.0.1:6102"], "\(flows)")
        let backends = try #require(json["backends"] as? [[String: Any]])
        #expect(backends.map { ($0["flows"] as? [Int])?.count } == [2, 2], "\(backends)")
        #expect(json["window"] as? String == "fixed" && json["streams"] as? Int == 4)
        for port in [6101, 6102] { #expect(hosts.log("serve\(port)").contains("finished tcp_bw"), "\(hosts.log("serve\(port)"))") }

        // Forty flows, twenty on each server: all of them connect before any says its DATA line, more
        // than a server keeps waiting for a first line between tests.
        let many = try hosts.group([6101, 6102], pool: TestKey.randomID(), through(7000, flows: 40))
        #expect(many.status == 0, "\(many.stderr)")
        #expect((many.json?["backends"] as? [[String: Any]])?.compactMap { ($0["flows"] as? [Int])?.count } == [20, 20])

        // One flow, two servers: the one that got nothing is let go, the step measures.
        let one = try hosts.group([6101, 6102], pool: TestKey.randomID(), through(7000, flows: 1))
        #expect(one.status == 0, "\(one.stderr)")
        #expect((one.json?["backends"] as? [[String: Any]])?.compactMap { ($0["flows"] as? [Int])?.count }.sorted() == [0, 1])

        // Half the flows go to a host that is not in the step: named, with where the others landed.
        let lost = try hosts.group([6101, 6102], pool: TestKey.randomID(), through(7001, flows: 2), deadline: 60)
        #expect(lost.status == 1)
        #expect(lost.stderr.contains("only 1 of 2 data connections reached a server within 20 s (1 at 127.0.0.1:6101, 0 at 127.0.0.1:6102; "
                                     + "missing flow 2); this host's went to 127.0.0.1:7001"), "\(lost.stderr)")
        // A balancer that refuses: the flow and the balancer named; the servers are free for the next step.
        let refused = try hosts.group([6101, 6102], pool: TestKey.randomID(), through(7002, flows: 2))
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("flow 1: 127.0.0.1:7002 refused or dropped its connection"), "\(refused.stderr)")
        usleep(500_000)
        #expect(try hosts.group([6101, 6102], pool: TestKey.randomID(), through(7000, flows: 2)).status == 0)
        // Without the pool id on standard input, nothing starts.
        #expect(try hosts.group([6101, 6102], through(7000, flows: 2)).stderr.contains("pool id, 32 hex digits"))
    }

    @Test("two clients in one step: the other client's `send`, started first, waits until the servers take its flows; every flow is counted")
    func twoClients() throws {
        let hosts = try Hosts()
        defer { hosts.close() }
        for port in [6101, 6102] { try hosts.server(port) }
        let pool = TestKey.randomID()
        // The other client's flows 2 and 3, one to each server, started before the step exists.
        let other = Pipe()
        let sender = try hosts.ns.spawn(["sh", "-c", "printf '\(pool)\\n' | \(AgentBinary.path) send --send 2=127.0.0.1:6101,3=127.0.0.1:6102 --deadline 30"],
                                        stdout: other.fileHandleForWriting, stderr: FileHandle(forWritingAtPath: "/dev/null"))
        hosts.processes.append(sender)
        try? other.fileHandleForWriting.close()
        usleep(600_000)
        let out = try hosts.group([6101, 6102], pool: pool, ["--flows", "4", "--send", "0=127.0.0.1:6101,1=127.0.0.1:6102"])
        sender.wait(seconds: 30)
        let status = sender.terminationStatus
        let said = String(decoding: other.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(out.status == 0, "\(out.stderr)")
        #expect(status == 0, "\(said)")
        let flows = try #require(out.json?["flows"] as? [[String: Any]])
        #expect(flows.compactMap { $0["bytes_per_second"] as? Double }.filter { $0 > 0 }.count == 4, "\(flows)")
        #expect(flows.map { $0["server"] as? String } == ["127.0.0.1:6101", "127.0.0.1:6102", "127.0.0.1:6101", "127.0.0.1:6102"])
        let sent = try #require((try? JSONSerialization.jsonObject(with: Data(said.utf8))) as? [String: Any])
        #expect((sent["flows"] as? [[String: Any]])?.allSatisfy { ($0["bytes"] as? Int ?? 0) > 0 && $0["ended_by_server"] as? Bool == true } == true, "\(said)")
        #expect(hosts.log("serve6101").contains("dropped a data connection from 127.0.0.1: no test is running"), "the sender tried before the step")
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
        #expect(parse(["run", "--server", "10.0.0.1:5201", "--via", "10.0.0.9:1", "--test", "tcp_bw", "--token", "x"]).contains("are for --servers"))
        let pool = TestKey.randomID()
        #expect(parse(base + ["--token-stdin", "--flows", "4"], keys: ["a", "b", pool]).contains("--flows needs --send"))
        #expect(parse(base + ["--token-stdin", "--flows", "65", "--send", "0=10.0.0.9:80"], keys: ["a", "b", pool]).contains("from 1 to 64"))
        #expect(parse(base + ["--token-stdin", "--flows", "2", "--send", "0=10.0.0.9:80", "--reverse"], keys: ["a", "b", pool]).contains("excludes --via and --reverse"))
        #expect(parse(base + ["--token-stdin", "--flows", "2", "--send", "2=10.0.0.9:80"], keys: ["a", "b", pool]).contains("FLOW from 0 to 1"))
        #expect(parse(base + ["--token-stdin", "--flows", "2", "--send", "0=10.0.0.9:80,0=10.0.0.9:80"], keys: ["a", "b", pool]).contains("flow 0 is given twice"))
        #expect(parse(base + ["--token-stdin", "--send", "0=10.0.0.9:80"], keys: ["a", "b", pool]).contains("--send is for --flows"))
        #expect(parse(base + ["--token-stdin", "--flows", "2", "--send", "0=10.0.0.9:80"], keys: ["a", "b"]).contains("pool id"))
        #expect(parse(base + ["--token-stdin", "--flows", "2", "--send", "0=10.0.0.9:80"], keys: ["a", "b", pool]) == "ok")
        var poolLine = [pool][...]
        #expect(throws: (any Error).self) { try PoolSender.parse(["--send", "0=10.0.0.9:80"], standardInput: { poolLine.popFirst() }) }
        poolLine = [pool][...]
        #expect((try? PoolSender.parse(["--send", "0=10.0.0.9:80,3=10.0.0.9:81", "--deadline", "9"], standardInput: { poolLine.popFirst() }))?.flows.count == 2)
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
        let pooledLine = AgentCommandLine.group(servers: ["10.0.0.1:5201"], pool: (8, [(0, "10.0.0.9:80"), (2, "10.0.0.9:80")]),
                                                request: TestRequest(test: .tcpBandwidth))
        keys = ["a", pool][...]
        guard case .run(let b) = try? Invocation.parse(pooledLine, environment: nil, standardInput: { keys.popFirst() }) else {
            Issue.record("\(pooledLine) does not parse")
            return
        }
        #expect(b.flows == 8 && b.ownFlows.map(\.flow) == [0, 2] && b.pool == pool)
        var sendKeys = [pool][...]
        #expect((try? PoolSender.parse(Array(AgentCommandLine.send([(1, "10.0.0.9:80")], deadline: 30).dropFirst()), standardInput: { sendKeys.popFirst() }))?
            .flows == [PoolFlow(flow: 1, to: try! SocketAddress(parsing: "10.0.0.9:80"))])
        // The pool's request line: 32 hex digits, one stream per flow, a fixed window.
        var pooled = TestRequest(test: .tcpBandwidth)
        pooled.fixedWindow = true
        pooled.pool = TestKey.randomID()
        pooled.flows = 8
        #expect((try? TestRequest(fields: ControlLine.fields(pooled.encodedFields().split(separator: " ")))) == pooled)
        for bad in ["pool=XYZ flows=8", "pool=\(pooled.pool!) flows=0", "pool=\(pooled.pool!) flows=65"] {
            let line = "test=tcp_bw window=fixed " + bad
            #expect(throws: (any Error).self, "\(bad)") { try TestRequest(fields: ControlLine.fields(line.split(separator: " "))) }
        }
        #expect(throws: (any Error).self) { try Relay.parse(["--listen", "127.0.0.1", "--routes", "7101=127.0.0.1:1,7101=127.0.0.1:2", "--deadline", "5"]) }
        #expect(throws: (any Error).self) { try Relay.parse(["--listen", "127.0.0.1", "--routes", "x=127.0.0.1:1", "--deadline", "5"]) }
        #expect((try? Relay.parse(["--listen", "127.0.0.1", "--routes", "7101=127.0.0.1:1", "--deadline", "5"]))?.routes.count == 1)
    }
}
