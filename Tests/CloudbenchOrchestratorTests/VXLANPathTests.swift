import Foundation
import Testing
import NetNS
@testable import CloudbenchCore
@testable import CloudbenchOrchestrator

@Suite("The vxlan path's forwarding table", .enabled(if: getuid() == 0, "needs root for namespaces"), .serialized)
struct VXLANPathTests {
    @Test("learning is off, the peer has a static entry, and a frame injected from a third host adds none")
    func noLearning() throws {
        let server = try Namespace.create(prefix: "cbt")
        defer { server.delete() }
        let client = try Namespace.create(prefix: "cbt")
        defer { client.delete() }
        let stranger = try Namespace.create(prefix: "cbt")
        defer { stranger.delete() }
        let (se, ce) = try Link.veth(server, client, subnet: "10.231.144")
        let (strangerEnd, serverSide) = try Link.veth(stranger, server, subnet: "10.231.145")

        let ssh = SSHSettings.defaults
        let pair = Pair(name: "p", provider: "lab", type: "t", region: "r", placement: nil, price: nil, priceAsOf: nil,
                        server: Instance(role: .server, address: se.address, testIP: se.address, overlays: [:], ssh: ssh),
                        client: Instance(role: .client, address: ce.address, testIP: ce.address, overlays: [:], ssh: ssh),
                        paths: [.vxlan], tests: [.tcpBandwidth], repetitions: 1)
        let side = PathSetup.Side(agent: "/nonexistent", runDirectory: "/nonexistent")
        let setup = PathSetup.make(path: .vxlan, pair: pair, server: side, client: side, deadline: 60, pathKey: "unused-here")
        for step in setup.setup { try (step.role == .server ? server : client).run(["sh", "-c", step.command]) }
        defer { for step in setup.teardown { _ = try? (step.role == .server ? server : client).run(["sh", "-c", step.command]) } }

        try client.run(["ping", "-c", "2", "-i", "0.2", "-W", "2", setup.serverAddress])
        let details = try server.run(["ip", "-d", "link", "show", "cbvx0"])
        #expect(details.contains(" nolearning "), "\(details)")
        func fdb() throws -> String { try server.run(["bridge", "fdb", "show", "dev", "cbvx0"]) }
        let before = try fdb()
        #expect(before.contains("02:cb:00:00:00:02 dst \(ce.address) self permanent"), "\(before)")
        #expect(try server.run(["ip", "neigh", "show", "dev", "cbvx0"]).contains("lladdr 02:cb:00:00:00:02 PERMANENT"))

        // A VXLAN frame with the path's VNI from a host that is not the peer, to UDP 8472.
        func received() throws -> Int {
            Int(try server.run(["cat", "/sys/class/net/cbvx0/statistics/rx_packets"]).trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
        }
        let rxBefore = try received()
        let vni = UInt32(RemoteLayout.vxlanID)
        var frame: [UInt8] = [0x08, 0, 0, 0, UInt8(vni >> 16 & 0xff), UInt8(vni >> 8 & 0xff), UInt8(vni & 0xff), 0]
        frame += [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0xde, 0xad, 0xbe, 0xef, 0x01, 0x08, 0x06]
        frame += [UInt8](repeating: 0, count: 46)
        let injected = frame, target = serverSide.address
        try stranger.onThreadInside {
            let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
            defer { close(fd) }
            var to = sockaddr_in()
            to.sin_family = sa_family_t(AF_INET)
            to.sin_port = UInt16(RemoteLayout.vxlanPort).bigEndian
            inet_pton(AF_INET, target, &to.sin_addr)
            for _ in 0..<3 {
                let n = withUnsafePointer(to: &to) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, injected, injected.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
                guard n == injected.count else { throw NamespaceError.cannotOpen("sendto", errno) }
                usleep(20_000)
            }
        }
        usleep(200_000)
        #expect(try received() >= rxBefore + 3, "the injected frames reached the VXLAN device")
        let after = try fdb()
        #expect(!after.lowercased().contains("02:de:ad:be:ef:01"), "\(after)")
        #expect(!after.contains(strangerEnd.address), "\(after)")
    }
}
