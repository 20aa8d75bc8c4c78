#if canImport(Glibc)
import Glibc
#endif

/// A numeric IPv4 or IPv6 address with a port, parsed from `ADDR:PORT` or `[ADDR]:PORT`.
///
/// Names are not resolved on purpose: a DNS lookup has no deadline, and the orchestrator
/// always passes addresses.
public struct SocketAddress: Sendable, CustomStringConvertible {
    public let host: String
    public let port: UInt16
    var storage: sockaddr_storage
    var length: socklen_t

    public var family: Int32 { Int32(storage.ss_family) }
    public var description: String { family == AF_INET6 ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// Parses `10.0.0.4:5201`, `[fd00::1]:5201` or `0.0.0.0:5201`.
    public init(parsing text: String) throws {
        let host: Substring, portText: Substring
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { throw AgentError.usage("address '\(text)' needs a port, as [ADDR]:PORT") }
            portText = rest.dropFirst()
        } else {
            guard let colon = text.lastIndex(of: ":") else {
                throw AgentError.usage("address '\(text)' needs a port, as ADDR:PORT (e.g. 10.0.0.4:5201)")
            }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        guard let port = UInt16(portText), port > 0 else {
            throw AgentError.usage("port '\(portText)' in '\(text)' is not a number from 1 to 65535")
        }
        try self.init(host: String(host), port: port)
    }

    public init(host: String, port: UInt16) throws {
        self.host = host
        self.port = port
        storage = sockaddr_storage()
        var v4 = sockaddr_in()
        var v6 = sockaddr_in6()
        if inet_pton(AF_INET, host, &v4.sin_addr) == 1 {
            v4.sin_family = sa_family_t(AF_INET)
            v4.sin_port = port.bigEndian
            length = socklen_t(MemoryLayout<sockaddr_in>.size)
            withUnsafeMutableBytes(of: &storage) { dst in
                withUnsafeBytes(of: v4) { dst.copyMemory(from: $0) }
            }
        } else if inet_pton(AF_INET6, host, &v6.sin6_addr) == 1 {
            v6.sin6_family = sa_family_t(AF_INET6)
            v6.sin6_port = port.bigEndian
            length = socklen_t(MemoryLayout<sockaddr_in6>.size)
            withUnsafeMutableBytes(of: &storage) { dst in
                withUnsafeBytes(of: v6) { dst.copyMemory(from: $0) }
            }
        } else {
            throw AgentError.usage("'\(host)' is not a numeric IPv4 or IPv6 address")
        }
    }

    /// Rebuilds an address the kernel filled in (accept, recvfrom).
    init(storage: sockaddr_storage, length: socklen_t) {
        self.storage = storage
        self.length = length
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        var port: UInt16 = 0
        var s = storage
        if Int32(storage.ss_family) == AF_INET6 {
            withUnsafePointer(to: &s) {
                $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { p in
                    var a = p.pointee.sin6_addr
                    inet_ntop(AF_INET6, &a, &buffer, socklen_t(buffer.count))
                    port = UInt16(bigEndian: p.pointee.sin6_port)
                }
            }
        } else {
            withUnsafePointer(to: &s) {
                $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { p in
                    var a = p.pointee.sin_addr
                    inet_ntop(AF_INET, &a, &buffer, socklen_t(buffer.count))
                    port = UInt16(bigEndian: p.pointee.sin_port)
                }
            }
        }
        host = cString(buffer)
        self.port = port
    }

    /// Whether `other` (filled in by the kernel: `recvfrom`, `accept`) has this address's host,
    /// whatever its port: a byte comparison, cheap enough for every datagram of a flood.
    func sameHost(_ other: sockaddr_storage) -> Bool {
        guard other.ss_family == storage.ss_family else { return false }
        var a = storage, b = other
        if family == AF_INET6 {
            return withUnsafeBytes(of: &a) { x in withUnsafeBytes(of: &b) { y in
                let at = MemoryLayout<sockaddr_in6>.offset(of: \sockaddr_in6.sin6_addr)!, n = MemoryLayout<in6_addr>.size
                return memcmp(x.baseAddress! + at, y.baseAddress! + at, n) == 0
            } }
        }
        return withUnsafeBytes(of: &a) { x in withUnsafeBytes(of: &b) { y in
            let at = MemoryLayout<sockaddr_in>.offset(of: \sockaddr_in.sin_addr)!, n = MemoryLayout<in_addr>.size
            return memcmp(x.baseAddress! + at, y.baseAddress! + at, n) == 0
        } }
    }

    @discardableResult
    func withSockaddr<R, E: Error>(_ body: (UnsafePointer<sockaddr>, socklen_t) throws(E) -> R) throws(E) -> R {
        try withUnsafePointer(to: storage) { (p) throws(E) -> R in
            try p.withMemoryRebound(to: sockaddr.self, capacity: 1) { (sp) throws(E) -> R in try body(sp, length) }
        }
    }
}
