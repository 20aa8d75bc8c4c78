#if canImport(Glibc)
import Glibc
#endif
import Syscall

/// An owned socket descriptor: closed once, by `close()` or at the latest by `deinit`.
///
/// One thread uses a socket at a time; the class is `@unchecked Sendable` so that a socket
/// can be handed to the thread that will own it. Every call goes through `Posix`.
public final class Socket: @unchecked Sendable {
    public private(set) var fd: Int32

    public init(fd: Int32) { self.fd = fd }
    deinit { close() }

    public func close() {
        if fd >= 0 { Posix.close(fd); fd = -1 }
    }

    // MARK: making sockets

    /// A new socket of `type` (SOCK_STREAM / SOCK_DGRAM) for `address`'s family.
    public static func make(for address: SocketAddress, type: Int32) throws -> Socket {
        Socket(fd: try Posix.socket(address.family, type))
    }

    /// A TCP connection to `address`, or an error naming the address and the time waited.
    public static func connect(to address: SocketAddress, timeout: Double) throws -> Socket {
        let s = try make(for: address, type: Int32(SOCK_STREAM.rawValue))
        do {
            try address.withSockaddr { p, l throws(SystemError) in try Posix.connect(s.fd, p, l, until: Deadline(seconds: timeout)) }
        } catch where error.errno == ETIMEDOUT {
            throw AgentError.failed("could not connect to \(address) within \(formatSeconds(timeout)) s")
        } catch {
            throw AgentError.failed("could not connect to \(address): \(error.reason)")
        }
        return s
    }

    /// A listening TCP socket on `address` (SO_REUSEADDR, so a restarted server can bind at once).
    public static func listen(on address: SocketAddress) throws -> Socket {
        let s = try make(for: address, type: Int32(SOCK_STREAM.rawValue))
        try s.setOption(SOL_SOCKET, SO_REUSEADDR, 1)
        do {
            try address.withSockaddr { p, l throws(SystemError) in try Posix.bind(s.fd, p, l) }
        } catch {
            throw AgentError.failed("cannot listen on \(address): \(error.reason)")
        }
        try Posix.listen(s.fd, backlog: 64)
        return s
    }

    /// A UDP socket bound to `address`.
    public static func bindUDP(_ address: SocketAddress) throws -> Socket {
        let s = try make(for: address, type: Int32(SOCK_DGRAM.rawValue))
        try s.setOption(SOL_SOCKET, SO_REUSEADDR, 1)
        do {
            try address.withSockaddr { p, l throws(SystemError) in try Posix.bind(s.fd, p, l) }
        } catch {
            throw AgentError.failed("cannot bind UDP \(address): \(error.reason)")
        }
        return s
    }

    /// Fixes a datagram socket's peer (a UDP connect returns at once).
    public func connect(_ address: SocketAddress) throws {
        _ = try address.withSockaddr { p, l throws(SystemError) in try Posix.connect(fd, p, l) }
    }

    /// Accepts one connection, or returns nil when `timeout` passes first.
    public func accept(timeout: Double) throws -> (Socket, SocketAddress)? {
        guard try waitReadable(timeout: timeout) else { return nil }
        var storage = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = try withUnsafeMutablePointer(to: &storage) { (p) throws(SystemError) -> IOResult<Int32> in
            try p.withMemoryRebound(to: sockaddr.self, capacity: 1) { (sp) throws(SystemError) -> IOResult<Int32> in
                try Posix.accept(self.fd, sp, &len)
            }
        }
        guard let fd = result.value else { return nil }
        return (Socket(fd: fd), SocketAddress(storage: storage, length: len))
    }

    // MARK: options

    public func setOption(_ level: Int32, _ name: Int32, _ value: Int32) throws {
        try Posix.setOption(fd, level, name, value)
    }

    /// An Int32 option's value; 0 when the socket refuses to say.
    public func getOption(_ level: Int32, _ name: Int32) -> Int32 {
        (try? Posix.getOption(fd, level, name)) ?? 0
    }

    /// Sends each small write at once: the latency test measures the network, not Nagle.
    public func setNoDelay() throws { try setOption(Int32(IPPROTO_TCP), TCP_NODELAY, 1) }

    /// Bounds blocking reads and writes so that a dead peer cannot hang a thread.
    public func setTimeouts(receive: Double?, send: Double?) throws {
        func tv(_ s: Double) -> timeval { timeval(tv_sec: Int(s), tv_usec: Int((s - Double(Int(s))) * 1e6)) }
        if let receive { try Posix.setOption(fd, SOL_SOCKET, SO_RCVTIMEO, tv(receive), "setsockopt(SO_RCVTIMEO)") }
        if let send { try Posix.setOption(fd, SOL_SOCKET, SO_SNDTIMEO, tv(send), "setsockopt(SO_SNDTIMEO)") }
    }

    /// Makes `close()` reset the connection at once instead of lingering over unread data.
    /// Best effort: a socket the peer already reset refuses it, and then there is nothing to linger.
    public func setLingerReset() {
        try? Posix.setOption(fd, SOL_SOCKET, SO_LINGER, linger(l_onoff: 1, l_linger: 0), "setsockopt(SO_LINGER)")
    }

    // MARK: I/O

    /// Whether the peer has closed (or reset) the connection; nothing is consumed, nothing waits.
    /// Bytes still queued from it count as open.
    public func peerClosed() -> Bool {
        var byte: UInt8 = 0
        let n = recv(fd, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT))
        return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
    }

    /// Waits until the socket is readable (or has hung up); false when `timeout` passes first.
    public func waitReadable(timeout: Double) throws -> Bool {
        try Posix.wait(fd, for: Int16(POLLIN), until: Deadline(seconds: min(timeout, 3600)))
    }

    /// Writes all of `bytes`; throws on error (EPIPE does not kill the process: MSG_NOSIGNAL).
    public func writeAll(_ bytes: UnsafeRawBufferPointer) throws {
        try Posix.writeAll(fd, bytes, socket: true)
    }

    public func writeAll(_ text: String) throws {
        var t = text
        try t.withUTF8 { try writeAll(UnsafeRawBufferPointer($0)) }
    }

    /// What came of waiting for a line.
    public enum LineResult: Sendable, Equatable {
        case line(String)
        case timedOut
        case closed
        /// Longer than allowed, or not UTF-8: not something the agent ever sends.
        case invalid
    }

    /// Reads one `\n`-terminated line of at most `maxBytes`, one byte at a time so that
    /// nothing after the line is consumed.
    public func readLineResult(maxBytes: Int = 4096, timeout: Double) throws -> LineResult {
        var line: [UInt8] = []
        let deadline = Deadline(seconds: timeout)
        var byte: UInt8 = 0
        while line.count < maxBytes {
            guard !deadline.expired, try Posix.wait(fd, for: Int16(POLLIN), until: deadline) else { return .timedOut }
            guard let n = try receive(&byte, 1) else { continue }  // the receive timeout passed: the deadline decides
            if n == 0 { return .closed }
            if byte == UInt8(ascii: "\n") {
                if line.last == UInt8(ascii: "\r") { line.removeLast() }
                return String(validating: line, as: UTF8.self).map { .line($0) } ?? .invalid
            }
            line.append(byte)
        }
        return .invalid
    }

    /// Whether the next bytes to arrive are `prefix`, without consuming them; false when other
    /// bytes come, the stream ends or `timeout` passes first.
    public func nextBytesAre(_ prefix: [UInt8], timeout: Double) throws -> Bool {
        let deadline = Deadline(seconds: timeout)
        var seen = [UInt8](repeating: 0, count: prefix.count)
        while try Posix.wait(fd, for: Int16(POLLIN), until: deadline) {
            let n = try seen.withUnsafeMutableBytes { (b) throws(SystemError) -> Int in
                try Posix.recv(fd, b.baseAddress!, b.count, flags: Int32(MSG_PEEK)).value ?? 0
            }
            guard n > 0, seen[0..<n].elementsEqual(prefix[0..<n]) else { return false }
            if n == prefix.count { return true }
            Clock.sleep(0.005)  // part of a line: wait for the rest
        }
        return false
    }

    /// The line, or nil on EOF, timeout or invalid input.
    public func readLine(maxBytes: Int = 4096, timeout: Double) throws -> String? {
        if case .line(let l) = try readLineResult(maxBytes: maxBytes, timeout: timeout) { return l }
        return nil
    }

    /// Reads exactly `count` bytes into `buffer`; false on EOF, reset or the receive timeout.
    public func readExactly(_ buffer: UnsafeMutableRawPointer, _ count: Int) throws -> Bool {
        var got = 0
        while got < count {
            guard let n = try receive(buffer + got, count - got), n > 0 else { return false }
            got += n
        }
        return true
    }

    /// `recv` with a peer's reset read as the end of the stream (0); nil when the receive
    /// timeout passed.
    private func receive(_ buffer: UnsafeMutableRawPointer, _ count: Int) throws(SystemError) -> Int? {
        do {
            return try Posix.recv(fd, buffer, count).value
        } catch {
            if error.errno == ECONNRESET { return 0 }
            throw error
        }
    }

    /// The kernel's view of this TCP connection (`TCP_INFO`); empty when the socket has none.
    public func tcpInfo() -> TCPInfo {
        TCPInfo(raw: (try? Posix.getOption(fd, Int32(IPPROTO_TCP), TCP_INFO, bytes: 256)) ?? [])
    }

    /// The local address the kernel picked (after connect) or was given (after bind).
    public func localAddress() -> SocketAddress? {
        guard let (storage, len) = try? Posix.localAddress(fd) else { return nil }
        return SocketAddress(storage: storage, length: len)
    }
}

/// Prints seconds as `5` or `0.5` for messages.
func formatSeconds(_ s: Double) -> String {
    s == s.rounded() ? String(Int(s)) : String(s)
}
