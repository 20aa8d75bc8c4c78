import Foundation
import Glibc
import Testing
@testable import AgentKit

/// The reachability preflight's two ends, in process, on loopback only.
@Suite("Agent reach", .serialized)
struct ReachCommandTests {
    /// Lines printed by one end, collected across threads.
    final class Lines: @unchecked Sendable {
        private let lock = NSLock()
        private var items: [String] = []
        func add(_ s: String) { lock.lock(); items.append(s); lock.unlock() }
        var all: [String] { lock.lock(); defer { lock.unlock() }; return items }
    }

    /// Starts an answerer for `seconds` on 127.0.0.1 and waits until it is ready.
    static func answer(_ flags: [String], seconds: Int = 4) throws -> (Lines, Thread) {
        let lines = Lines()
        let t = Thread {
            try? ReachCommand.answer(["--listen", "127.0.0.1"] + flags + ["--deadline", "\(seconds)"], handleSignals: false) { lines.add($0) }
        }
        t.start()
        let until = Date().addingTimeInterval(5)
        while !lines.all.contains("ready") && Date() < until { usleep(10_000) }
        #expect(lines.all.contains("ready"))
        return (lines, t)
    }

    static func probe(_ flags: [String], timeout: Double = 1) throws -> [String] {
        var out: [String] = []
        try ReachCommand.probe(["--server", "127.0.0.1"] + flags + ["--timeout", "\(timeout)"]) { out.append($0) }
        return out
    }

    static func freePorts() -> (Int, Int) {
        let base = 41_000 + Int(getpid() % 4000) * 2
        return (base, base + 1)
    }

    @Test("an answered TCP port and UDP port are open; ports nobody answers are refused")
    func openAndRefused() throws {
        let (tcp, udp) = Self.freePorts()
        let (said, _) = try Self.answer(["--tcp", "\(tcp)", "--udp", "\(udp)"])
        #expect(Array(said.all.prefix(2)) == ["listening tcp \(tcp)", "listening udp \(udp)"])
        #expect(try Self.probe(["--tcp", "\(tcp)", "--udp", "\(udp)"]) == ["tcp \(tcp) open", "udp \(udp) open"])
        // Loopback answers a closed port at once: RST for TCP, ICMP port unreachable for UDP.
        #expect(try Self.probe(["--tcp", "\(tcp + 2)", "--udp", "\(udp + 2)"]) == ["tcp \(tcp + 2) refused", "udp \(udp + 2) refused"])
        Thread.sleep(forTimeInterval: 4.2)
    }

    @Test("a datagram without the probe's words gets no answer; a port in use is reported busy")
    func noReflection() throws {
        let (_, udp) = Self.freePorts()
        let (said, _) = try Self.answer(["--udp", "\(udp)", "--udp", "\(udp)"], seconds: 2)
        #expect(said.all.contains("listening udp \(udp)"))
        #expect(said.all.contains { $0.hasPrefix("busy udp \(udp): ") }, "\(said.all)")
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = UInt16(udp).bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var tv = timeval(tv_sec: 0, tv_usec: 400_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let payload = Array("hello, anyone there?".utf8)
        let sent = withUnsafePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                payload.withUnsafeBytes { b in sendto(fd, b.baseAddress, b.count, 0, sa, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        }
        #expect(sent > 0)
        var reply = [UInt8](repeating: 0, count: 64)
        #expect(recv(fd, &reply, reply.count, 0) < 0, "the answerer echoed a datagram that was not a probe")
        Thread.sleep(forTimeInterval: 2.2)
    }

    @Test("bad command lines say what is wrong", arguments: [
        (["--server", "10.0.0.4", "--timeout", "5"], "nothing to check: give --tcp or --udp"),
        (["--server", "example.com", "--tcp", "1", "--timeout", "5"], "--server 'example.com' is not a numeric address"),
        (["--server", "10.0.0.4", "--tcp", "0", "--timeout", "5"], "--tcp '0' is not a port from 1 to 65535"),
        (["--server", "10.0.0.4", "--tcp", "1", "--timeout", "600"], "--timeout must be from 0.1 to 60.0 seconds"),
        (["--server", "10.0.0.4", "--tcp", "1"], "missing --timeout"),
    ])
    func badArguments(arguments: [String], message: String) {
        do {
            try ReachCommand.probe(arguments) { _ in }
            Issue.record("accepted \(arguments)")
        } catch {
            #expect(error.exitStatus == 2 && error.description == message)
        }
    }
}
