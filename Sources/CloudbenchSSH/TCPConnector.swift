import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Syscall

/// Every blocking call of the SSH module waits on the door's one monotonic deadline.
typealias Deadline = Syscall.Deadline

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
            let fd: Int32
            do {
                fd = try Posix.socket(ai.pointee.ai_family, Int32(SOCK_STREAM.rawValue))
            } catch {
                lastError = error.errno
                continue
            }
            do {
                try Posix.connect(fd, ai.pointee.ai_addr, ai.pointee.ai_addrlen, until: deadline)
                return fd
            } catch {
                Posix.close(fd)
                // Our deadline passing ends the attempt; a refusal or a kernel timeout tries the next address.
                if error.errno == ETIMEDOUT && deadline.expired { throw SSHError.connectTimedOut(host: label, seconds: timeout) }
                lastError = error.errno
            }
        }
        throw SSHError.connectFailed(host: label, detail: String(cString: strerror(lastError)))
    }
}
