@testable import CloudbenchSSH
import Glibc
import Testing

/// The connector on loopback: it connects through the syscall door, and a refusal is named.
@Suite("TCP connector")
struct TCPConnectorTests {
    /// A loopback listener on a port the kernel picks; its port.
    func listener() throws -> (Int32, UInt16) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(fd >= 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, len) == 0 && listen(fd, 4) == 0 && getsockname(fd, $0, &len) == 0
            }
        }
        try #require(ok)
        return (fd, UInt16(bigEndian: addr.sin_port))
    }

    @Test("connects to a listening port and hands back a blocking socket")
    func connects() throws {
        let (l, port) = try listener()
        defer { close(l) }
        let fd = try TCPConnector.open(host: "127.0.0.1", port: port, timeout: 2, label: "lo")
        defer { close(fd) }
        #expect(fcntl(fd, F_GETFL) & O_NONBLOCK == 0)
    }

    @Test("a closed port is a named refusal, at once")
    func refused() throws {
        let (l, port) = try listener()
        close(l)
        let error = #expect(throws: SSHError.self) {
            try TCPConnector.open(host: "127.0.0.1", port: port, timeout: 5, label: "127.0.0.1:\(port)")
        }
        #expect(error == .connectFailed(host: "127.0.0.1:\(port)", detail: "Connection refused"))
    }
}
