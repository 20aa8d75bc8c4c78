import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The default `SocketFactory`: a TCP connection from this process, bounded by a timeout.
public enum TCPConnector {
    /// Tries each address `host` resolves to until one connects or `timeout` seconds pass.
    /// Name resolution uses the system resolver, which has its own (resolv.conf) timeouts.
    public static let connect: SocketFactory = { host, port, timeout in
        try open(host: host, port: port, timeout: timeout, label: "\(host):\(port)")
    }

    static func open(host: String, port: UInt16, timeout: Double, label: String) throws -> Int32 {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_ADDRCONFIG | AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &list)
        guard rc == 0, list != nil else {
            throw SSHError.resolveFailed(host: label, detail: String(cString: gai_strerror(rc)))
        }
        defer { freeaddrinfo(list) }
        let deadline = Deadline(seconds: timeout)
        var lastError: Int32 = ECONNREFUSED
        var cursor = list
        while let ai = cursor {
            cursor = ai.pointee.ai_next
            let fd = socket(ai.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            if fd < 0 { lastError = errno; continue }
            let flags = fcntl(fd, F_GETFL)
            _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
            if Glibc.connect(fd, ai.pointee.ai_addr, ai.pointee.ai_addrlen) == 0 {
                _ = fcntl(fd, F_SETFL, flags)
                return fd
            }
            let e = errno
            guard e == EINPROGRESS else { lastError = e; close(fd); continue }
            var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            var n: Int32
            repeat { n = poll(&pfd, 1, deadline.remainingMilliseconds) } while n < 0 && errno == EINTR
            if n == 0 {
                close(fd)
                throw SSHError.connectTimedOut(host: label, seconds: timeout)
            }
            var soErr: Int32 = 0
            var len = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &soErr, &len)
            if soErr == 0 && n > 0 {
                _ = fcntl(fd, F_SETFL, flags)
                return fd
            }
            lastError = soErr != 0 ? soErr : errno
            close(fd)
        }
        throw SSHError.connectFailed(host: label, detail: String(cString: strerror(lastError)))
    }
}

/// A point in monotonic time that blocking calls must not wait past.
struct Deadline {
    let end: ContinuousClock.Instant

    init(seconds: Double) {
        // Clamped to 0…10⁶ s: NaN, a negative or a huge number of seconds cannot trap.
        let ms = (seconds * 1000).rounded()
        end = ContinuousClock.now.advanced(by: .milliseconds(Int64(ms.isNaN ? 0 : min(max(ms, 0), 1e9))))
    }

    var remaining: Duration { max(.zero, end - ContinuousClock.now) }
    var expired: Bool { ContinuousClock.now >= end }

    /// For poll(2): at least 0, at most Int32.max.
    var remainingMilliseconds: Int32 {
        let c = remaining.components
        let ms = c.seconds * 1000 + c.attoseconds / 1_000_000_000_000_000
        return Int32(clamping: ms)
    }
}
