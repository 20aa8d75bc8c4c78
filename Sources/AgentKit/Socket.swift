#if canImport(Glibc)
import Glibc
#endif

/// An owned socket descriptor: closed once, by `close()` or at the latest by `deinit`.
///
/// One thread uses a socket at a time; the class is `@unchecked Sendable` so that a socket
/// can be handed to the thread that will own it.
public final class Socket: @unchecked Sendable {
    public private(set) var fd: Int32

    public init(fd: Int32) { self.fd = fd }
    deinit { close() }

    public func close() {
        if fd >= 0 { Glibc.close(fd); fd = -1 }
    }

    // MARK: making sockets

    /// A new socket of `type` (SOCK_STREAM / SOCK_DGRAM) for `address`'s family.
    public static func make(for address: SocketAddress, type: Int32) throws -> Socket {
        let fd = try Sys.call("socket") { socket(address.family, type | Int32(SOCK_CLOEXEC.rawValue), 0) }
        return Socket(fd: fd)
    }

    /// A TCP connection to `address`, or an error naming the address and the time waited.
    public static func connect(to address: SocketAddress, timeout: Double) throws -> Socket {
        let s = try make(for: address, type: Int32(SOCK_STREAM.rawValue))
        let flags = try Sys.call("fcntl") { fcntl(s.fd, F_GETFL) }
        try Sys.call("fcntl") { fcntl(s.fd, F_SETFL, flags | O_NONBLOCK) }
        let rc = address.withSockaddr { Glibc.connect(s.fd, $0, $1) }
        if rc != 0 {
            let err = errno
            guard err == EINPROGRESS || err == EINTR else {
                throw AgentError.failed("could not connect to \(address): \(String(cString: strerror(err)))")
            }
            var pfd = pollfd(fd: s.fd, events: Int16(POLLOUT), revents: 0)
            let deadline = Clock.now() + timeout
            while true {
                let left = deadline - Clock.now()
                if left <= 0 { throw AgentError.failed("could not connect to \(address) within \(formatSeconds(timeout)) s") }
                let n = poll(&pfd, 1, Int32(max(1, left * 1000)))
                if n < 0 && errno == EINTR { continue }
                if n == 0 { continue }
                break
            }
            var soErr: Int32 = 0
            var len = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &soErr, &len)
            if soErr != 0 {
                throw AgentError.failed("could not connect to \(address): \(String(cString: strerror(soErr)))")
            }
        }
        try Sys.call("fcntl") { fcntl(s.fd, F_SETFL, flags) }
        return s
    }

    /// A listening TCP socket on `address` (SO_REUSEADDR, so a restarted server can bind at once).
    public static func listen(on address: SocketAddress) throws -> Socket {
        let s = try make(for: address, type: Int32(SOCK_STREAM.rawValue))
        try s.setOption(SOL_SOCKET, SO_REUSEADDR, 1)
        do {
            try address.withSockaddr { p, l in try Sys.call("bind") { bind(s.fd, p, l) } }
        } catch let e as SystemError {
            throw AgentError.failed("cannot listen on \(address): \(String(cString: strerror(e.errno)))")
        }
        try Sys.call("listen") { Glibc.listen(s.fd, 64) }
        return s
    }

    /// A UDP socket bound to `address`.
    public static func bindUDP(_ address: SocketAddress) throws -> Socket {
        let s = try make(for: address, type: Int32(SOCK_DGRAM.rawValue))
        try s.setOption(SOL_SOCKET, SO_REUSEADDR, 1)
        do {
            try address.withSockaddr { p, l in try Sys.call("bind") { bind(s.fd, p, l) } }
        } catch let e as SystemError {
            throw AgentError.failed("cannot bind UDP \(address): \(String(cString: strerror(e.errno)))")
        }
        return s
    }

    /// Accepts one connection, or returns nil when `timeout` passes first.
    public func accept(timeout: Double) throws -> (Socket, SocketAddress)? {
        guard try waitReadable(timeout: timeout) else { return nil }
        var storage = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let fd = try withUnsafeMutablePointer(to: &storage) { p in
            try p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sp in
                try Sys.callTolerating("accept", [EAGAIN, ECONNABORTED]) { Glibc.accept(self.fd, sp, &len) }
            }
        }
        guard let fd else { return nil }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)  // accept4 needs _GNU_SOURCE, which Swift's Glibc lacks
        return (Socket(fd: fd), SocketAddress(storage: storage, length: len))
    }

    // MARK: options

    public func setOption(_ level: Int32, _ name: Int32, _ value: Int32) throws {
        var v = value
        try Sys.call("setsockopt") { setsockopt(fd, level, name, &v, socklen_t(MemoryLayout<Int32>.size)) }
    }

    public func getOption(_ level: Int32, _ name: Int32) -> Int32 {
        var v: Int32 = 0
        var len = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, level, name, &v, &len)
        return v
    }

    /// Sends each small write at once: the latency test measures the network, not Nagle.
    public func setNoDelay() throws { try setOption(Int32(IPPROTO_TCP), TCP_NODELAY, 1) }

    /// Bounds blocking reads and writes so that a dead peer cannot hang a thread.
    public func setTimeouts(receive: Double?, send: Double?) throws {
        func tv(_ s: Double) -> timeval { timeval(tv_sec: Int(s), tv_usec: Int((s - Double(Int(s))) * 1e6)) }
        if let receive {
            var t = tv(receive)
            try Sys.call("setsockopt(SO_RCVTIMEO)") { setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &t, socklen_t(MemoryLayout<timeval>.size)) }
        }
        if let send {
            var t = tv(send)
            try Sys.call("setsockopt(SO_SNDTIMEO)") { setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &t, socklen_t(MemoryLayout<timeval>.size)) }
        }
    }

    /// Makes `close()` reset the connection at once instead of lingering over unread data.
    public func setLingerReset() {
        var l = linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, socklen_t(MemoryLayout<linger>.size))
    }

    // MARK: I/O

    /// Waits until the socket is readable (or has hung up); false when `timeout` passes first.
    public func waitReadable(timeout: Double) throws -> Bool {
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let deadline = Clock.now() + timeout
        while true {
            let left = deadline - Clock.now()
            let n = poll(&pfd, 1, Int32(max(0, min(left, 3600) * 1000).rounded(.up)))
            if n < 0 {
                if errno == EINTR { continue }
                throw SystemError(call: "poll", errno: errno)
            }
            if n > 0 { return true }
            if Clock.now() >= deadline { return false }
        }
    }

    /// Writes all of `bytes`; throws on error (EPIPE does not kill the process: MSG_NOSIGNAL).
    public func writeAll(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let n = try Sys.call("send") {
                Glibc.send(fd, bytes.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            }
            offset += n
        }
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
        let deadline = Clock.now() + timeout
        var byte: UInt8 = 0
        while line.count < maxBytes {
            let left = deadline - Clock.now()
            guard left > 0, try waitReadable(timeout: left) else { return .timedOut }
            guard let n = try Sys.callTolerating("recv", [EAGAIN, ECONNRESET], { Glibc.recv(fd, &byte, 1, 0) }) else { return .closed }
            if n == 0 { return .closed }
            if byte == UInt8(ascii: "\n") {
                if line.last == UInt8(ascii: "\r") { line.removeLast() }
                return String(validating: line, as: UTF8.self).map { .line($0) } ?? .invalid
            }
            line.append(byte)
        }
        return .invalid
    }

    /// The line, or nil on EOF, timeout or invalid input.
    public func readLine(maxBytes: Int = 4096, timeout: Double) throws -> String? {
        if case .line(let l) = try readLineResult(maxBytes: maxBytes, timeout: timeout) { return l }
        return nil
    }

    /// Reads exactly `count` bytes into `buffer`; false on EOF or timeout.
    public func readExactly(_ buffer: UnsafeMutableRawPointer, _ count: Int) throws -> Bool {
        var got = 0
        while got < count {
            guard let n = try Sys.callTolerating("recv", [EAGAIN, ECONNRESET], { Glibc.recv(fd, buffer + got, count - got, 0) }) else { return false }
            if n == 0 { return false }
            got += n
        }
        return true
    }

    /// The kernel's view of this TCP connection (`TCP_INFO`).
    public func tcpInfo() -> TCPInfo {
        var raw = [UInt8](repeating: 0, count: 256)
        var len = socklen_t(raw.count)
        let rc = getsockopt(fd, Int32(IPPROTO_TCP), TCP_INFO, &raw, &len)
        return rc == 0 ? TCPInfo(raw: Array(raw[0..<Int(len)])) : TCPInfo(raw: [])
    }

    /// The local address the kernel picked (after connect) or was given (after bind).
    public func localAddress() -> SocketAddress? {
        var storage = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let rc = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        return rc == 0 ? SocketAddress(storage: storage, length: len) : nil
    }
}

/// Prints seconds as `5` or `0.5` for messages.
func formatSeconds(_ s: Double) -> String {
    s == s.rounded() ? String(Int(s)) : String(s)
}
