import Foundation
import Testing
import NetNS
@testable import AgentKit
import Syscall

@Suite("User-space UDP tunnel", .enabled(if: getuid() == 0, "needs root for namespaces and TUN"), .serialized)
struct UDPTunnelTests {
    static let key = "9f1c2b7a4e6d8c0b1a2f3e4d5c6b7a8998a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3"
    static let mtu = 1500 - UDPTunnel.overhead

    /// Two namespaces joined by a veth, a tunnel in each, forwarding until `body` returns.
    static func withTunnels(subnet: String, keyB: String = key,
                            _ body: (Namespace, Namespace, Endpoint, Endpoint, UDPTunnel, UDPTunnel) throws -> Void) throws {
        let a = try Namespace.create(prefix: "cbt")
        defer { a.delete() }
        let b = try Namespace.create(prefix: "cbt")
        defer { b.delete() }
        let (ea, eb) = try Link.veth(a, b, subnet: subnet)
        let ta = try a.onThreadInside {
            try UDPTunnel(.init(device: "cbtun0", localIP: ea.address, localPort: 8285, peerIP: eb.address, peerPort: 8285,
                                tunnelIP: "10.254.253.1", prefixLength: 30, mtu: mtu, pathKey: key))
        }
        let tb = try b.onThreadInside {
            try UDPTunnel(.init(device: "cbtun0", localIP: eb.address, localPort: 8285, peerIP: ea.address, peerPort: 8285,
                                tunnelIP: "10.254.253.2", prefixLength: 30, mtu: mtu, pathKey: keyB))
        }
        let deadline = Syscall.Clock.now() + 30
        let threads = [ta, tb].map { t in Thread { try? t.run(deadline: deadline) } }
        threads.forEach { $0.start() }
        defer {
            ta.stop(); tb.stop()
            while threads.contains(where: \.isExecuting) { usleep(10_000) }
        }
        try body(a, b, ea, eb, ta, tb)
    }

    @Test("packets cross the tunnel both ways, with the MTU set for UDP encapsulation and the authenticator")
    func pingThroughTunnel() throws {
        try Self.withTunnels(subnet: "10.231.140") { a, _, _, _, ta, tb in
            #expect(try a.run(["cat", "/sys/class/net/cbtun0/mtu"]).trimmingCharacters(in: .whitespacesAndNewlines) == "\(Self.mtu)")
            #expect(try a.run(["ip", "-o", "route", "get", "10.254.253.2"]).contains("dev cbtun0"))
            // A full-size packet (the MTU less 28 bytes of ICMP and IP headers) passes without fragmentation.
            try a.run(["ping", "-c", "3", "-i", "0.2", "-W", "2", "-M", "do", "-s", "\(Self.mtu - 28)", "10.254.253.2"])
            #expect(tb.packetsIn >= 3 && ta.packetsIn >= 3)
            #expect(ta.droppedUnauthenticated + tb.droppedUnauthenticated + ta.droppedReplayed + tb.droppedReplayed == 0)
        }
    }

    @Test("ends with different path keys drop each other's datagrams and count them")
    func wrongKey() throws {
        try Self.withTunnels(subnet: "10.231.141", keyB: String(Self.key.reversed())) { a, _, _, _, _, tb in
            #expect(throws: (any Error).self) { try a.run(["ping", "-c", "2", "-i", "0.2", "-W", "1", "10.254.253.2"]) }
            #expect(tb.packetsIn == 0 && tb.droppedUnauthenticated >= 2)
        }
    }

    @Test("the tunnel keeps its counts in its stats file while they change")
    func statsFile() throws {
        let file = NSTemporaryDirectory() + "cbt-tunnel-stats-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: file); try? FileManager.default.removeItem(atPath: file + ".new") }
        try Self.withTunnels(subnet: "10.231.214", keyB: String(Self.key.reversed())) { a, _, _, _, _, tb in
            let stop = try TunnelCommand.publish(tb, to: file)
            #expect(TunnelStats.read(path: file) == .success(TunnelStats(pid: getpid())), "written at once, all zero")
            #expect(throws: (any Error).self) { try a.run(["ping", "-c", "2", "-i", "0.2", "-W", "1", "10.254.253.2"]) }
            let until = Date().addingTimeInterval(2)
            var seen = TunnelStats(pid: 0)
            while Date() < until {
                if case .success(let s) = TunnelStats.read(path: file) { seen = s }
                if seen.droppedBadTag >= 2 && seen.droppedBadTag == tb.droppedUnauthenticated { break }
                usleep(20_000)
            }
            #expect(seen.droppedBadTag == tb.droppedUnauthenticated && seen.droppedBadTag >= 2 && seen.packetsIn == 0, "\(seen)")
            stop()
            let last = try TunnelStats.read(path: file).get()
            try? a.run(["ping", "-c", "1", "-W", "1", "10.254.253.2"])
            usleep(300_000)
            #expect(TunnelStats.read(path: file) == .success(last), "not rewritten once stopped")
        }
    }

    @Test("a spoofed datagram from the peer's own address and port is dropped and counted; so is a replayed one")
    func spoofedAndReplayed() throws {
        try Self.withTunnels(subnet: "10.231.142") { a, b, ea, eb, ta, _ in
            // A copy of every UDP datagram reaching a, IP header included, to capture one of b's.
            let capture = try a.onThreadInside { try RawSocket.open(protocol: Int32(IPPROTO_UDP)) }
            defer { close(capture) }
            try b.run(["ping", "-c", "1", "-W", "2", "10.254.253.1"])
            let inBefore = ta.packetsIn
            let valid = try RawSocket.receive(capture, from: eb.address, toPort: 8285, timeout: 5)
            #expect(inBefore >= 1)

            // Sent from inside b with b's tunnel address and port as the source (IP_HDRINCL).
            let injector = try b.onThreadInside { try RawSocket.open(protocol: Int32(IPPROTO_RAW)) }
            defer { close(injector) }
            // No UDP checksum (allowed on IPv4): the captured one may be a partial, offloaded sum.
            let udp = Int(valid[0] & 0x0f) * 4, payload = udp + 8
            var replayed = valid
            replayed[udp + 6] = 0; replayed[udp + 7] = 0
            // 1. The same datagram again: its tag is right, its counter spent.
            try RawSocket.send(injector, packet: replayed, to: ea.address)
            // 2. Forged ones: a fresh counter with the old tag, and a made-up packet.
            var forged = replayed
            forged[payload] = 0x7f
            try RawSocket.send(injector, packet: forged, to: ea.address)
            var madeUp = Array(replayed[..<payload]) + [UInt8](repeating: 0x45, count: 84 + TunnelAuthenticator.overhead)
            let udpLength = UInt16(madeUp.count - udp)
            madeUp[udp + 4] = UInt8(udpLength >> 8); madeUp[udp + 5] = UInt8(udpLength & 0xff)
            try RawSocket.send(injector, packet: madeUp, to: ea.address)

            let until = Date().addingTimeInterval(3)
            while (ta.droppedReplayed < 1 || ta.droppedUnauthenticated < 2) && Date() < until { usleep(20_000) }
            #expect(ta.droppedReplayed == 1)
            #expect(ta.droppedUnauthenticated == 2)
            #expect(ta.packetsIn == inBefore, "nothing injected reached the TUN device")
            // The real peer still gets through.
            try b.run(["ping", "-c", "1", "-W", "2", "10.254.253.1"])
            #expect(ta.packetsIn > inBefore)
        }
    }
}

/// Raw IPv4 sockets for the spoofing test: one that sees incoming UDP with its IP header, one
/// that sends packets with a header the test wrote.
enum RawSocket {
    static func open(protocol p: Int32) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_RAW.rawValue), p)
        guard fd >= 0 else { throw HarnessError(message: "socket(SOCK_RAW): errno \(errno)") }
        return fd
    }

    /// The first packet from `source` to UDP `port`, whole, within `timeout` seconds.
    static func receive(_ fd: Int32, from source: String, toPort port: UInt16, timeout: Double) throws -> [UInt8] {
        var buf = [UInt8](repeating: 0, count: 65_536)
        let until = Date().addingTimeInterval(timeout)
        var tv = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var want = in_addr()
        inet_pton(AF_INET, source, &want)
        while Date() < until {
            let n = recv(fd, &buf, buf.count, 0)
            guard n > 28 else { continue }
            let ihl = Int(buf[0] & 0x0f) * 4
            let src = UInt32(buf[12]) | UInt32(buf[13]) << 8 | UInt32(buf[14]) << 16 | UInt32(buf[15]) << 24
            let dport = UInt16(buf[ihl + 2]) << 8 | UInt16(buf[ihl + 3])
            if src == want.s_addr && dport == port { return Array(buf[..<n]) }
        }
        throw HarnessError(message: "no UDP datagram from \(source) to port \(port) within \(timeout) s")
    }

    static func send(_ fd: Int32, packet: [UInt8], to destination: String) throws {
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        inet_pton(AF_INET, destination, &addr.sin_addr)
        let n = withUnsafePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, packet, packet.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard n == packet.count else { throw HarnessError(message: "sendto(raw): errno \(errno)") }
    }
}
