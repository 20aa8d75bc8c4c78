import AgentContract
import AgentKit
import Foundation
import NetNS
import Testing

/// The lease every agent process holds, and the server's READY line.
@Suite("Agent lease and READY line")
struct AgentLeaseTests {
    static func leaseFile() -> String {
        let path = NSTemporaryDirectory() + "cbt-lease-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        FileManager.default.createFile(atPath: path, contents: Data("run-1\n".utf8))
        return path
    }

    /// Sets the file's modification time `seconds` into the past.
    static func age(_ path: String, by seconds: Double) {
        let t = Date().addingTimeInterval(-seconds).timeIntervalSince1970
        var times = [timeval(tv_sec: Int(t), tv_usec: 0), timeval(tv_sec: Int(t), tv_usec: 0)]
        _ = utimes(path, &times)
    }

    @Test("a lease holds while renewed within its expiry, runs out after it, and ends when removed")
    func terms() throws {
        let path = Self.leaseFile()
        defer { unlink(path) }
        #expect(Lease.ended(path) == nil)
        Self.age(path, by: LeaseTerms.expiry - 2)
        #expect(Lease.ended(path) == nil)
        Self.age(path, by: LeaseTerms.expiry + 1)
        #expect(Lease.ended(path)?.contains("not renewed for") == true)
        unlink(path)
        #expect(Lease.ended(path)?.contains("removed") == true)
        // The period is short enough for a killed run to be gone in seconds, and long enough not to
        // flood a host with renewals.
        #expect(LeaseTerms.period >= 1 && LeaseTerms.expiry <= 30)
    }

    @Test("the run's period beside the lease sets its expiry; a period file that is not a whole number from 1 to 60 reads as 3 s")
    func statedPeriod() throws {
        let path = Self.leaseFile()
        let periodFile = LeaseTerms.periodFile(of: path)
        defer { unlink(path); unlink(periodFile) }
        FileManager.default.createFile(atPath: periodFile, contents: Data("12\n".utf8))
        #expect(Lease.period(of: path) == 12)
        Self.age(path, by: 30)
        #expect(Lease.ended(path) == nil, "30 s is within 3 periods of 12 s")
        Self.age(path, by: 37)
        #expect(Lease.ended(path)?.contains("more than 3 periods of 12 s") == true, "\(Lease.ended(path) ?? "holds")")
        for text in ["0", "61", "-5", "12.5", "abc", "", String(repeating: "9", count: 40)] {
            FileManager.default.createFile(atPath: periodFile, contents: Data(text.utf8))
            #expect(Lease.period(of: path) == LeaseTerms.period, "'\(text)'")
        }
        unlink(periodFile)
        #expect(Lease.period(of: path) == LeaseTerms.period)
    }

    @Test("a run's period is 3 s up to 60 hosts, then one second more per 20 hosts, at most 60 s",
          arguments: [(0, 3.0), (2, 3), (60, 3), (61, 4), (120, 6), (240, 12), (1200, 60), (100_000, 60), (-1, 3)])
    func periodForHosts(hosts: Int, period: Double) {
        #expect(LeaseTerms.period(hosts: hosts) == period)
        // Renewing every host once per period costs at most 20 commands a second.
        #expect(Double(max(0, min(hosts, 1200))) / LeaseTerms.period(hosts: hosts) <= Double(LeaseTerms.renewalsPerSecond))
    }

    @Test("renewing a lease that holds makes it new; one that ran out stays out; a removed one is not made again")
    func renew() throws {
        let path = Self.leaseFile()
        defer { unlink(path) }
        Self.age(path, by: LeaseTerms.expiry - 2)
        Lease.renew(path)
        #expect(try #require(Lease.age(of: path)) < 2)
        Self.age(path, by: LeaseTerms.expiry + 1)
        Lease.renew(path)
        #expect(Lease.ended(path)?.contains("not renewed for") == true)
        unlink(path)
        Lease.renew(path)
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test("serve prints READY with its pid and port and lets go of its output; it ends once its lease is removed",
          .enabled(if: getuid() == 0, "needs root for network namespaces"))
    func readyThenLease() throws {
        let pair = try AgentPair(subnet: "10.231.31")
        defer { pair.close() }
        let lease = Self.leaseFile()
        defer { unlink(lease) }
        let out = Pipe(), err = Pipe()
        // Every address of the namespace, as compare starts it.
        let server = try pair.serverNS.spawn([AgentBinary.path, "serve", "--listen", "0.0.0.0:\(pair.port)", "--deadline", "120",
                                              "--lease", lease], stdout: out.fileHandleForWriting, stderr: err.fileHandleForWriting,
                                             environment: ["CLOUDBENCH_AGENT_TOKEN": pair.token])
        try? out.fileHandleForWriting.close()
        try? err.fileHandleForWriting.close()
        defer { if server.isRunning { kill(server.processIdentifier, SIGKILL); server.waitUntilExit() } }
        // The whole output, to its end, arrives while the server runs: the end is the event.
        let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(server.isRunning)
        #expect(stdout == "READY pid=\(server.processIdentifier) port=\(pair.port)\n")
        // A test of the run renews the host's lease (as it starts and as it ends).
        Self.age(lease, by: LeaseTerms.period + 1)
        let ok = try pair.client(AgentServerTests.quickTest)
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(try #require(Lease.age(of: lease)) < LeaseTerms.period, "the server renewed its lease for the test")
        // The lease goes: the server ends within a period or two.
        let removed = Date()
        unlink(lease)
        while server.isRunning && Date().timeIntervalSince(removed) < LeaseTerms.period * 2 + 2 { usleep(50_000) }
        #expect(!server.isRunning, "the server outlived its lease")
        server.waitUntilExit()
        #expect(server.terminationStatus == 0)
        let log = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(log.contains("lease \(lease) removed; exiting"), "\(log)")
    }

    @Test("serve refuses to start on a lease that has already run out",
          .enabled(if: getuid() == 0, "needs root for network namespaces"))
    func staleLease() throws {
        let pair = try AgentPair(subnet: "10.231.32")
        defer { pair.close() }
        let lease = Self.leaseFile()
        defer { unlink(lease) }
        Self.age(lease, by: LeaseTerms.expiry + 5)
        let r = try pair.serverNS.output(of: [AgentBinary.path, "serve", "--listen", "0.0.0.0:\(pair.port)", "--deadline", "60",
                                             "--lease", lease], environment: ["CLOUDBENCH_AGENT_TOKEN": pair.token], deadline: 20)
        #expect(r.status == 1)
        #expect(r.stdout.isEmpty, "no READY line")
        #expect(r.stderr.contains("cannot start: lease \(lease) not renewed"), "\(r.stderr)")
    }
}
