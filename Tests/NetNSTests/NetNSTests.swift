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
