import Foundation
import NetNS
import Testing
import AgentKit

/// What keeps a server on a cloud host safe and alive: the token, the deadline, bad clients.
@Suite("Agent server", .serialized, .enabled(if: getuid() == 0, "needs root for network namespaces"))
struct AgentServerTests {
    static let quickTest = ["--test", "tcp_lat", "--duration", "0.3", "--warmup", "0", "--count", "100", "--json"]

    @Test("a wrong token is refused and logged, the token itself never printed; the right one works")
    func token() throws {
        let pair = try AgentPair(subnet: "10.231.20")
        defer { pair.close() }
        try pair.startServer()
        let wrong = "not-\(pair.token)"
        let refused = try pair.client(Self.quickTest, token: wrong)
        #expect(refused.status == 1)
        #expect(refused.stderr == "cloudbench-agent: server refused the token\n")
        #expect(refused.stdout.isEmpty)
        let ok = try pair.client(Self.quickTest)
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(pair.serverLog.contains("wrong token"))
        #expect(!pair.serverLog.contains(pair.token), "the server log shows a token")
        #expect(!ok.stdout.contains(pair.token) && !ok.stderr.contains(pair.token))
        // Without --json: the human report, headline first.
        let human = try pair.client(Array(Self.quickTest.dropLast()))
        #expect(human.status == 0)
        #expect(human.stdout.hasPrefix("latency "), "\(human.stdout)")
        #expect(human.stdout.contains("round trips of 1 bytes"))
    }

    @Test("a single-use key is refused the second time; the run key alone is refused; a fresh key works")
    func replay() throws {
        let pair = try AgentPair(subnet: "10.231.29")
        defer { pair.close() }
        try pair.startServer()
        let host = pair.serverEnd.address
        func ask(_ line: String) throws -> String {
            let fd = try pair.clientNS.connectTCP(host: host, port: pair.port)
            defer { close(fd) }
            var bytes = Array(line.utf8)
            _ = write(fd, &bytes, bytes.count)
            var reply = [UInt8](repeating: 0, count: 256)
            var got = 0
            var tv = timeval(tv_sec: 5, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            while got < reply.count, !reply[0..<got].contains(10) {
                let n = read(fd, &reply[got], reply.count - got)
                if n <= 0 { break }
                got += n
            }
            return String(decoding: reply[0..<got], as: UTF8.self)
        }
        let key = TestKey.fresh(runKey: pair.token)
        // First use: the key is good (the request itself is not, so no test starts).
        #expect(try ask("cloudbench-agent/1 \(key.wire) test=nope\n").hasPrefix("ERR bad request"))
        // The same key again, now with a good request: refused.
        let request = TestRequest(test: .tcpLatency).encodedFields()
        #expect(try ask("cloudbench-agent/1 \(key.wire) \(request)\n") == "ERR token\n")
        #expect(pair.serverLog.contains("a key already used (replayed)"))
        // The run key itself is not a key.
        #expect(try ask("cloudbench-agent/1 \(pair.token) \(request)\n") == "ERR token\n")
        let ok = try pair.client(Self.quickTest)
        #expect(ok.status == 0, "\(ok.stderr)")
    }

    @Test("the server exits at its deadline when nobody ever connects")
    func deadline() throws {
        let pair = try AgentPair(subnet: "10.231.21")
        defer { pair.close() }
        let started = Date()
        let server = try pair.startServer(deadline: 1.5)
        while server.isRunning && Date().timeIntervalSince(started) < 10 { usleep(50_000) }
        let took = Date().timeIntervalSince(started)
        #expect(!server.isRunning)
        #expect(took >= 1.4 && took < 4, "exited after \(took) s")
        #expect(server.terminationStatus == 0)
        #expect(pair.serverLog.contains("deadline"))
    }

    @Test("the deadline also ends a server in the middle of a long test")
    func deadlineDuringTest() throws {
        let pair = try AgentPair(subnet: "10.231.22")
        defer { pair.close() }
        let started = Date()
        let server = try pair.startServer(deadline: 2)
        let out = try pair.client(["--test", "tcp_bw", "--duration", "30", "--warmup", "0", "--json"])
        let took = Date().timeIntervalSince(started)
        #expect(out.status == 1)
        #expect(out.stderr.hasPrefix("cloudbench-agent: ") && out.stderr.split(separator: "\n").count == 1, "\(out.stderr)")
        #expect(took < 10, "the client waited \(took) s")
        #expect(!server.isRunning)
    }

    @Test("garbage, an overlong line and a half-open connection are dropped; the next client is served")
    func garbage() throws {
        let pair = try AgentPair(subnet: "10.231.23")
        defer { pair.close() }
        try pair.startServer()
        let host = pair.serverEnd.address
        // Binary junk with a newline, then a line that never ends, then silence.
        let junk = try pair.clientNS.connectTCP(host: host, port: pair.port)
        var bytes: [UInt8] = (0..<200).map { _ in UInt8.random(in: 0...255) } + [10]
        _ = write(junk, &bytes, bytes.count)
        let long = try pair.clientNS.connectTCP(host: host, port: pair.port)
        var flood = [UInt8](repeating: 65, count: 10_000)
        _ = write(long, &flood, flood.count)
        let silent = try pair.clientNS.connectTCP(host: host, port: pair.port)
        defer { close(junk); close(long); close(silent) }
        let started = Date()
        let out = try pair.client(Self.quickTest)
        #expect(out.status == 0, "\(out.stderr)")
        // The silent connection costs the client nothing: waiting connections are read together.
        #expect(Date().timeIntervalSince(started) < 3)
        // ... and the server drops it after the 5 s request budget.
        let until = Date().addingTimeInterval(8)
        while !pair.serverLog.contains("no request line within 5 s") && Date() < until { usleep(100_000) }
        #expect(pair.serverLog.contains("not a cloudbench-agent request"))
        #expect(pair.serverLog.contains("no request line within 5 s"))
        #expect(pair.serverLog.contains("binary or overlong"))
    }

    @Test("three idle connections and a slowloris peer do not delay a real client")
    func strayPeers() throws {
        let pair = try AgentPair(subnet: "10.231.28")
        defer { pair.close() }
        try pair.startServer()
        let host = pair.serverEnd.address
        var started = Date()
        let alone = try pair.client(Self.quickTest)
        let normal = Date().timeIntervalSince(started)
        #expect(alone.status == 0, "\(alone.stderr)")
        let idle = try (0..<3).map { _ in try pair.clientNS.connectTCP(host: host, port: pair.port) }
        let slow = try pair.clientNS.connectTCP(host: host, port: pair.port)
        defer { for fd in idle + [slow] { close(fd) } }
        // One byte a second of something that looks like a request, for longer than the client runs.
        let stop = StopFlag()
        let dripper = Thread {
            var bytes = Array("cloudbench-agent/1 tok".utf8)
            for i in 0..<12 where !stop.isSet {
                _ = write(slow, &bytes[i % bytes.count], 1)
                sleep(1)
            }
        }
        dripper.start()
        defer { stop.set() }
        usleep(300_000)
        started = Date()
        let out = try pair.client(Self.quickTest)
        let took = Date().timeIntervalSince(started)
        #expect(out.status == 0, "\(out.stderr)")
        #expect(took < normal + 1, "alone \(normal) s, with strays \(took) s")
    }

    @Test("a client killed mid-test does not wedge the server")
    func killedClient() throws {
        let pair = try AgentPair(subnet: "10.231.24")
        defer { pair.close() }
        try pair.startServer()
        let victim = try pair.spawnClient(["--test", "tcp_bw", "--duration", "20", "--warmup", "0", "--streams", "2", "--json"])
        usleep(1_500_000)
        #expect(victim.isRunning)
        kill(victim.processIdentifier, SIGKILL)
        victim.waitUntilExit()
        let started = Date()
        let out = try pair.client(Self.quickTest)
        #expect(out.status == 0, "\(out.stderr)")
        #expect(Date().timeIntervalSince(started) < 5)
        #expect(pair.serverLog.contains("ended early: the client closed its data connections"), "\(pair.serverLog)")
    }

    @Test("SIGTERM ends the server cleanly")
    func sigterm() throws {
        let pair = try AgentPair(subnet: "10.231.25")
        defer { pair.close() }
        let server = try pair.startServer()
        kill(server.processIdentifier, SIGTERM)
        let started = Date()
        while server.isRunning && Date().timeIntervalSince(started) < 5 { usleep(20_000) }
        #expect(!server.isRunning)
        #expect(server.terminationSignal == nil && server.terminationStatus == 0)
        #expect(pair.serverLog.contains("SIGTERM"))
    }

    @Test("a second client during a test waits its turn and is then served")
    func secondClientWaits() throws {
        let pair = try AgentPair(subnet: "10.231.26")
        defer { pair.close() }
        try pair.startServer()
        let first = try pair.spawnClient(["--test", "tcp_lat", "--duration", "2", "--warmup", "0", "--json"])
        defer { if first.isRunning { kill(first.processIdentifier, SIGKILL); first.waitUntilExit() } }
        usleep(500_000)
        // The server answers "busy" only while it waits for data connections; during the
        // ping-pong the request waits in the queue and is served after the first test.
        let second = try pair.client(Self.quickTest)
        first.waitUntilExit()
        #expect(first.terminationStatus == 0)
        #expect(second.status == 0, "\(second.stderr)")
    }
}

/// The executable as a user meets it: version, host facts, errors, what it needs on a host.
@Suite("Agent binary", .serialized)
struct AgentBinaryTests {
    @Test("--version prints the version and a build id")
    func version() throws {
        let out = try Outcome.run([AgentBinary.path, "--version"])
        #expect(out.status == 0)
        let words = out.stdout.split(separator: " ")
        #expect(words.count == 4 && words[0] == "cloudbench-agent" && words[1] == "0.1.0" && words[2] == "(build")
        #expect(words.last?.count == 18, "\(out.stdout)")  // 16 hex digits, ")" and newline
    }

    @Test("conf --json describes the host")
    func conf() throws {
        let out = try Outcome.run([AgentBinary.path, "conf", "--json"])
        #expect(out.status == 0)
        let j = try #require(out.json)
        #expect(j["schema"] as? String == "cloudbench-agent/1" && j["test"] as? String == "conf")
        #expect((j["cpu"] as? [String: Any])?["cores"] as? Double ?? 0 >= 1)
        #expect((j["memory_bytes"] as? Double ?? 0) > 0)
        #expect((j["glibc"] as? String)?.hasPrefix("2.") == true)
        let ifs = try #require(j["interfaces"] as? [[String: Any]])
        #expect(ifs.contains { $0["name"] as? String == "lo" && $0["mtu"] as? Double == 65536 })
        #expect(((j["kernel"] as? [String: Any])?["release"] as? String)?.isEmpty == false)
    }

    @Test("bad input: exit status 2 and one line naming the problem")
    func badInput() throws {
        let out = try Outcome.run([AgentBinary.path, "run", "--server", "10.0.0.1:5201", "--test", "tcp_bw"],
                                  environment: ["PATH": "/usr/bin:/bin"])
        #expect(out.status == 2)
        #expect(out.stderr.split(separator: "\n").count == 1)
        #expect(out.stderr.contains("missing --token"))
    }

    @Test("no server: exit status 1 and one line naming the address", .enabled(if: getuid() == 0))
    func noServer() throws {
        let ns = try Namespace.create(prefix: "cbt")
        defer { ns.delete() }
        let other = try Namespace.create(prefix: "cbt")
        defer { other.delete() }
        let (_, far) = try Link.veth(ns, other, subnet: "10.231.27")
        let refused = try Outcome.run(["ip", "netns", "exec", ns.name, AgentBinary.path, "run", "--server",
                                       "\(far.address):5201", "--token", "t", "--test", "tcp_bw"])
        #expect(refused.status == 1)
        #expect(refused.stderr == "cloudbench-agent: could not connect to \(far.address):5201: Connection refused\n")
        // TEST-NET from a namespace with no route: the kernel says so at once.
        let unroutable = try Outcome.run(["ip", "netns", "exec", ns.name, AgentBinary.path, "run", "--server",
                                          "192.0.2.1:5201", "--token", "t", "--test", "tcp_bw"])
        #expect(unroutable.status == 1)
        #expect(unroutable.stderr.hasPrefix("cloudbench-agent: could not connect to 192.0.2.1:5201"))
        // An address on the link that nobody answers: the connect deadline, not the kernel's.
        let silent = try Outcome.run(["ip", "netns", "exec", ns.name, AgentBinary.path, "run", "--server",
                                      "10.231.27.77:5201", "--token", "t", "--test", "tcp_bw", "--connect-timeout", "1"])
        #expect(silent.status == 1)
        #expect(silent.stderr == "cloudbench-agent: could not connect to 10.231.27.77:5201 within 1 s\n")
    }

    @Test("the shipping build needs only glibc ≤ 2.34", .enabled(if: AgentBinary.isShippingBuild))
    func portable() throws {
        let ldd = try Outcome.run(["ldd", AgentBinary.path])
        let libraries = ldd.stdout.split(separator: "\n").compactMap { $0.split(whereSeparator: \.isWhitespace).first.map(String.init) }
        let allowed: Set<String> = ["linux-vdso.so.1", "libc.so.6", "libm.so.6", "/lib64/ld-linux-x86-64.so.2",
                                    "/lib/ld-linux-aarch64.so.1", "linux-gate.so.1"]
        #expect(Set(libraries).isSubset(of: allowed), "\(ldd.stdout)")
        let symbols = try Outcome.run(["objdump", "-T", AgentBinary.path]).stdout
        let versions = symbols.split(separator: "\n").compactMap { line -> [Int]? in
            guard let r = line.range(of: "GLIBC_") else { return nil }
            let v = line[r.upperBound...].prefix { $0.isNumber || $0 == "." }
            return v.split(separator: ".").compactMap { Int($0) }
        }
        let newest = try #require(versions.max { $0.lexicographicallyPrecedes($1) })
        #expect(!([2, 34].lexicographicallyPrecedes(newest)), "needs GLIBC_\(newest.map(String.init).joined(separator: "."))")
    }
}

final class StopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
    func set() { lock.lock(); value = true; lock.unlock() }
}
