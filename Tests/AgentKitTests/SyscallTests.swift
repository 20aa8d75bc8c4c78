import Glibc
import Testing
@testable import AgentKit
import Syscall

/// The syscall door: every failure names its call, waiting is a value, deadlines hold.
/// Loopback only.
@Suite("Syscall door")
struct SyscallTests {
    /// A loopback port that nothing listens on: bound, then closed.
    func closedPort() throws -> SocketAddress {
        let s = try Socket.listen(on: try SocketAddress(host: "127.0.0.1", port: 0))
        let address = try #require(s.localAddress())
        s.close()
        return address
    }

    @Test("a refused connection names the call and the reason")
    func refused() throws {
        let address = try closedPort()
        let fd = try Posix.socket(AF_INET, Int32(SOCK_STREAM.rawValue))
        defer { Posix.close(fd) }
        let error = try #require(throws: SystemError.self) {
            try address.withSockaddr { p, l throws(SystemError) in try Posix.connect(fd, p, l, until: Deadline(seconds: 2)) }
        }
        #expect(error == SystemError(call: "connect", errno: ECONNREFUSED))
        #expect(error.description == "connect failed: Connection refused")
        // The agent's own message, built on it.
        #expect(throws: AgentError.self) { try Socket.connect(to: address, timeout: 2) }
    }

    @Test("a timed receive with nothing to read is a value, not an error")
    func wouldBlock() throws {
        let listener = try Socket.listen(on: try SocketAddress(host: "127.0.0.1", port: 0))
        let client = try Socket.connect(to: try #require(listener.localAddress()), timeout: 2)
        let (server, _) = try #require(try listener.accept(timeout: 2))
        try server.setTimeouts(receive: 0.05, send: nil)
        var byte: UInt8 = 0
        let started = Clock.now()
        let result = try Posix.recv(server.fd, &byte, 1)
        #expect(result.value == nil)
        #expect(Clock.now() - started >= 0.04)
        try client.writeAll("x")
        #expect(try Posix.recv(server.fd, &byte, 1).value == 1 && byte == UInt8(ascii: "x"))
        // A line that never comes ends at its deadline.
        #expect(try server.readLineResult(timeout: 0.1) == .timedOut)
    }

    @Test("the sender looks for OPEN without eating another line (an ERR stays for the result)")
    func peekLeavesTheLine() throws {
        let listener = try Socket.listen(on: try SocketAddress(host: "127.0.0.1", port: 0))
        let client = try Socket.connect(to: try #require(listener.localAddress()), timeout: 2)
        let (server, _) = try #require(try listener.accept(timeout: 2))
        let open = Array("OPEN ".utf8)
        #expect(try client.nextBytesAre(open, timeout: 0.05) == false)   // nothing yet
        try server.writeAll("ERR busy\n")
        #expect(try client.nextBytesAre(open, timeout: 2) == false)
        #expect(try client.readLine(timeout: 2) == "ERR busy")
        try server.writeAll("OPEN rate=564300\n")
        #expect(try client.nextBytesAre(open, timeout: 2))
        #expect(try client.readLine(timeout: 2) == "OPEN rate=564300")
    }

    @Test("waiting ends at the deadline, not before")
    func deadline() throws {
        let listener = try Socket.listen(on: try SocketAddress(host: "127.0.0.1", port: 0))
        let started = Clock.now()
        #expect(try Posix.wait(listener.fd, for: Int16(POLLIN), until: Deadline(seconds: 0.1)) == false)
        let waited = Clock.now() - started
        #expect(waited >= 0.099 && waited < 2, "\(waited)")
        let passed = Deadline(seconds: -1)
        #expect(passed.expired && passed.remainingMilliseconds == 0 && passed.secondsRemaining == 0)
        #expect(Deadline(seconds: 1.0004).remainingMilliseconds == 1001)
    }

    @Test("files: read whole or up to a limit; a missing one names the path")
    func files() throws {
        let status = try Posix.readFile("/proc/self/status")
        #expect(String(decoding: status, as: UTF8.self).hasPrefix("Name:"))
        #expect(try Posix.readFile("/proc/self/status", limit: 10).count == 10)
        let error = try #require(throws: SystemError.self) { try Posix.readFile("/nonexistent/cloudbench") }
        #expect(error.call == "open(/nonexistent/cloudbench)" && error.errno == ENOENT)
    }
}
