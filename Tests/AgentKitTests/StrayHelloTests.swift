import Foundation
import Testing
import NetNS
@testable import AgentKit

@Suite("udp_bw stray hellos", .enabled(if: getuid() == 0, "needs root for namespaces"), .serialized)
struct StrayHelloTests {
    @Test("hellos with the test's tag from another address are ignored, and the result counts them")
    func strayHellosCounted() throws {
        let pair = try AgentPair(subnet: "10.231.143")
        defer { pair.close() }
        try pair.startServer()
        let client = pair.clientEnd, stray = "10.231.143.9"
        try pair.clientNS.run(["ip", "addr", "add", "\(stray)/24", "dev", client.device])
        // The real client's hellos are held back until the stray's have arrived (the rule goes
        // with the namespace).
        try pair.clientNS.run(["nft", "-f", "-"], input: """
            table inet cbhold {
                chain out {
                    type filter hook output priority 0;
                    ip saddr \(client.address) udp dport \(pair.port) drop
                }
            }
            """)
        // The session id travels in the clear ("OK <id>"), as a stray on the path would see it.
        let sniffer = try pair.clientNS.onThreadInside { try RawSocket.open(protocol: Int32(IPPROTO_TCP)) }
        defer { close(sniffer) }

        let outPath = NSTemporaryDirectory() + "cbt-stray-\(getpid()).json"
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: outPath) }
        let out = FileHandle(forWritingAtPath: outPath)!
        let p = try pair.clientNS.spawn([AgentBinary.path, "run", "--server", pair.address, "--token", pair.token,
                                         "--test", "udp_bw", "--reverse", "--duration", "1", "--warmup", "0.2",
                                         "--rate", "1000000", "--json"], stdout: out)
        try? out.close()
        defer { if p.isRunning { kill(p.processIdentifier, SIGKILL); p.waitUntilExit() } }

        let sid = try Self.sessionID(sniffer, timeout: 10)
        let tag = UDPBandwidthTest.tag(sid)
        let serverAddress = pair.serverEnd.address, port = pair.port
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
            let hello: [UInt64] = [tag, 0]
            for _ in 0..<3 {
                _ = hello.withUnsafeBytes { h in
                    withUnsafePointer(to: &to) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        sendto(fd, h.baseAddress!, 16, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
                }
                usleep(20_000)
            }
        }
        usleep(300_000)
        try pair.clientNS.run(["nft", "delete", "table", "inet", "cbhold"])

        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: outPath))) as? [String: Any])
        #expect(json["stray_hellos"] as? Int == 3, "\(json)")
        #expect(json["direction"] as? String == "server_to_client")
        #expect((json["received_datagrams"] as? Int ?? 0) > 0, "the flood went to the real client")
        #expect(pair.serverLog.contains("ignored 3 UDP hello(s)"))
    }

    /// The id in the server's "OK <id>" line, from TCP segments the client's namespace receives.
    static func sessionID(_ fd: Int32, timeout: Double) throws -> String {
        var buf = [UInt8](repeating: 0, count: 65_536)
        var tv = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let until = Date().addingTimeInterval(timeout)
        while Date() < until {
            let n = recv(fd, &buf, buf.count, 0)
            guard n > 40 else { continue }
            let ihl = Int(buf[0] & 0x0f) * 4
            let data = ihl + Int(buf[ihl + 12] >> 4) * 4
            guard data < n else { continue }
            let text = String(decoding: buf[data..<n], as: UTF8.self)
            if text.hasPrefix("OK "), let id = text.dropFirst(3).split(separator: "\n").first, id.count == 16 { return String(id) }
        }
        throw HarnessError(message: "no OK line from the server within \(timeout) s")
    }
}
