import Foundation
import Testing
@testable import NetNS

@Suite("Network namespaces", .enabled(if: getuid() == 0, "needs root for ip netns"))
struct NetNSTests {
    @Test("two namespaces joined by veth reach each other and nothing else")
    func vethPairIsIsolated() throws {
        let a = try Namespace.create(prefix: "cbt")
        defer { a.delete() }
        let b = try Namespace.create(prefix: "cbt")
        defer { b.delete() }
        let (_, eb) = try Link.veth(a, b, subnet: "10.231.7")
        try a.run(["ping", "-c", "1", "-W", "2", eb.address])
        #expect(!a.hasDefaultRoute())
        // An address outside the link has no route: the kernel refuses at once.
        #expect(throws: CommandError.self) { try a.run(["ping", "-c", "1", "-W", "1", "192.0.2.1"]) }
    }

    @Test("delete removes the namespace")
    func deleteRemoves() throws {
        let a = try Namespace.create(prefix: "cbt")
        a.delete()
        #expect(!Namespace.existing(prefix: "cbt").contains(a))
    }
}

@Suite("Sockets inside namespaces", .enabled(if: getuid() == 0, "needs root for setns"))
struct NamespaceSocketTests {
    @Test("connectTCP reaches a listener inside another namespace and times out on silence")
    func connectAcrossNamespaces() throws {
        let a = try Namespace.create(prefix: "cbt")
        defer { a.delete() }
        let b = try Namespace.create(prefix: "cbt")
        defer { b.delete() }
        let (_, eb) = try Link.veth(a, b, subnet: "10.231.8")
        let listener = try b.spawn(["python3", "-c",
            "import socket,time;s=socket.socket();s.bind(('\(eb.address)',7777));s.listen();c,_=s.accept();c.send(b'hi');time.sleep(1)"])
        defer { listener.terminate(); listener.waitUntilExit() }
        var fd: Int32 = -1
        for _ in 0..<50 {
            if let got = try? a.connectTCP(host: eb.address, port: 7777, timeout: 1) { fd = got; break }
            usleep(100_000)
        }
        #expect(fd >= 0)
        var buf = [UInt8](repeating: 0, count: 2)
        #expect(read(fd, &buf, 2) == 2)
        close(fd)
        // The root namespace's routes are not used: from `a`, only the link exists.
        #expect(throws: (any Error).self) { try a.connectTCP(host: "192.0.2.1", port: 22, timeout: 1) }
    }
}
