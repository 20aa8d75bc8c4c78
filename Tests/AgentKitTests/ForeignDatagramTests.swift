import Foundation
import Testing
import NetNS
@testable import AgentKit

@Suite("udp_bw foreign datagrams", .enabled(if: getuid() == 0, "needs root for namespaces"), .serialized)
struct ForeignDatagramTests {
    @Test("forward data with the test's tag from another address is not counted as received, but counted apart")
    func foreignDataNotCounted() throws {
        let pair = try AgentPair(subnet: "10.231.211")
        defer { pair.close() }
        try pair.startServer()
        let client = pair.clientEnd, stray = "10.231.211.9"
        try pair.clientNS.run(["ip", "addr", "add", "\(stray)/24", "dev", client.device])
        // The session id travels in the clear ("OK <id>"), as a stray on the path would see it.
        let sniffer = try pair.clientNS.onThreadInside { try RawSocket.open(protocol: Int32(IPPROTO_TCP)) }
        defer { close(sniffer) }

        let outPath = NSTemporaryDirectory() + "cbt-foreign-\(getpid()).json"
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: outPath) }
        let out = FileHandle(forWritingAtPath: outPath)!
        let p = try pair.clientNS.spawn([AgentBinary.path, "run", "--server", pair.address, "--token", pair.token,
                                         "--test", "udp_bw", "--duration", "1", "--warmup", "0.2",
                                         "--rate", "1000000", "--json"], stdout: out)
        try? out.close()
        defer { if p.isRunning { kill(p.processIdentifier, SIGKILL); p.waitUntilExit() } }

        let sid = try StrayHelloTests.sessionID(sniffer, timeout: 10)
        let tag = UDPBandwidthTest.tag(sid)
        let serverAddress = pair.serverEnd.address, port = pair.port
        let forged = 5
        try pair.clientNS.onThreadInside {
            let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
            defer { close(fd) }
            var from = sockaddr_in(), to = sockaddr_in()
            from.sin_family = sa_family_t(AF_INET); to.sin_family = sa_family_t(AF_INET)
            inet_pton(AF_INET, stray, &from.sin_addr)
            inet_pton(AF_INET, serverAddress, &to.sin_addr)
            to.sin_port = port.bigEndian
            let bound = withUnsafePointer(to: &from) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            guard bound == 0 else { throw HarnessError(message: "bind(\(stray)): errno \(errno)") }
            // Right tag, sequence numbers the real sender never reaches: counted, they would
            // each be a new datagram received.
            for i in 0..<forged {
                let datagram: [UInt64] = [tag, 1_000_000 + UInt64(i), 0, 0]
                _ = datagram.withUnsafeBytes { d in
                    withUnsafePointer(to: &to) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        sendto(fd, d.baseAddress!, d.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
                }
                usleep(20_000)
            }
        }

        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: outPath))) as? [String: Any])
        #expect(json["foreign_datagrams"] as? Int == forged, "\(json)")
        #expect(json["direction"] as? String == "client_to_server")
        let sent = json["sent_datagrams"] as? Int ?? 0, received = json["received_datagrams"] as? Int ?? -1
        #expect(received > 0 && received <= sent, "only the client's datagrams are received: \(received) of \(sent)")
        #expect(pair.serverLog.contains("ignored \(forged) udp_bw datagram(s)"))
    }
}
