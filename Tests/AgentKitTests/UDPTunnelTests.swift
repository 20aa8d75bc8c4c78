import Foundation
import Testing
import NetNS
@testable import AgentKit
import Syscall

@Suite("User-space UDP tunnel", .enabled(if: getuid() == 0, "needs root for namespaces and TUN"), .serialized)
struct UDPTunnelTests {
    @Test("packets cross the tunnel both ways, with the MTU set for UDP encapsulation")
    func pingThroughTunnel() throws {
        let a = try Namespace.create(prefix: "cbt")
        defer { a.delete() }
        let b = try Namespace.create(prefix: "cbt")
        defer { b.delete() }
        let (ea, eb) = try Link.veth(a, b, subnet: "10.231.140")
        let ta = try a.onThreadInside {
            try UDPTunnel(.init(device: "cbtun0", localIP: ea.address, localPort: 8285, peerIP: eb.address, peerPort: 8285,
                                tunnelIP: "10.254.253.1", prefixLength: 30, mtu: 1472))
        }
        let tb = try b.onThreadInside {
            try UDPTunnel(.init(device: "cbtun0", localIP: eb.address, localPort: 8285, peerIP: ea.address, peerPort: 8285,
                                tunnelIP: "10.254.253.2", prefixLength: 30, mtu: 1472))
        }
        let deadline = Syscall.Clock.now() + 20
        let threads = [ta, tb].map { t in Thread { try? t.run(deadline: deadline) } }
        threads.forEach { $0.start() }
        defer {
            ta.stop(); tb.stop()
            while threads.contains(where: \.isExecuting) { usleep(10_000) }
        }
        #expect(try a.run(["cat", "/sys/class/net/cbtun0/mtu"]).trimmingCharacters(in: .whitespacesAndNewlines) == "1472")
        #expect(try a.run(["ip", "-o", "route", "get", "10.254.253.2"]).contains("dev cbtun0"))
        // A full-size packet (1472 - 28 bytes of ICMP and IP headers) passes without fragmentation.
        try a.run(["ping", "-c", "3", "-i", "0.2", "-W", "2", "-M", "do", "-s", "1444", "10.254.253.2"])
        #expect(tb.packetsIn >= 3 && ta.packetsIn >= 3)
    }
}
