import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Opening sockets that live inside a namespace, from a process that stays in its own.
///
/// `setns(2)` moves only the calling thread, and a socket belongs to the namespace it was
/// created in for its whole life. So a dedicated thread enters the namespace, creates and
/// connects the socket, and ends; the descriptor then works from any thread, and its packets
/// can go only where that namespace routes them.
extension Namespace {
    /// A TCP connection to `host:port` made from inside this namespace, as a file descriptor
    /// the caller owns (close it). Throws on failure or after `timeout` seconds.
    public func connectTCP(host: String, port: UInt16, timeout: Double = 5) throws -> Int32 {
        try onThreadInside { try NamespaceSocket.connect(host: host, port: port, timeout: timeout) }
    }

    /// Runs `body` on a fresh thread that has entered this namespace, and returns its result.
    public func onThreadInside<T: Sendable>(_ body: @escaping @Sendable () throws -> T) throws -> T {
        let box = ResultBox<T>()
        let path = "/var/run/netns/\(name)"
        let thread = Thread {
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else {
                box.set(.failure(NamespaceError.cannotOpen(path, errno)))
                return
            }
            defer { close(fd) }
            guard sys_setns(fd, cloneNewNet) == 0 else {
                box.set(.failure(NamespaceError.cannotEnter(path, errno)))
                return
            }
            box.set(Result { try body() })
            // The thread ends here, so its namespace cannot leak into other work.
        }
        thread.start()
        return try box.wait().get()
    }
}

public enum NamespaceError: Error, CustomStringConvertible {
    case cannotOpen(String, Int32)
    case cannotEnter(String, Int32)
    case connect(String, Int32)
    case timedOut(String)

    public var description: String {
        switch self {
        case .cannotOpen(let p, let e): return "cannot open \(p): \(String(cString: strerror(e)))"
        case .cannotEnter(let p, let e): return "cannot enter \(p): \(String(cString: strerror(e))) (needs root)"
        case .connect(let a, let e): return "connect to \(a): \(String(cString: strerror(e)))"
        case .timedOut(let a): return "connect to \(a): timed out"
        }
    }
}

// glibc declares setns(2) only under _GNU_SOURCE, which Swift's Glibc module does not set.
@_silgen_name("setns") private func sys_setns(_ fd: Int32, _ nstype: Int32) -> Int32
private let cloneNewNet: Int32 = 0x4000_0000  // CLONE_NEWNET from <sched.h>

enum NamespaceSocket {
    static func connect(host: String, port: UInt16, timeout: Double) throws -> Int32 {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        let where_ = "\(host):\(port)"
        guard getaddrinfo(host, String(port), &hints, &list) == 0, let ai = list else {
            throw NamespaceError.connect(where_, EINVAL)
        }
        defer { freeaddrinfo(list) }
        let fd = socket(ai.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw NamespaceError.connect(where_, errno) }
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
        if Glibc.connect(fd, ai.pointee.ai_addr, ai.pointee.ai_addrlen) != 0 {
            let e = errno
            guard e == EINPROGRESS else { close(fd); throw NamespaceError.connect(where_, e) }
            var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            let n = poll(&pfd, 1, Int32(timeout * 1000))
            if n == 0 { close(fd); throw NamespaceError.timedOut(where_) }
            var soErr: Int32 = 0
            var len = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &soErr, &len)
            if n < 0 || soErr != 0 { close(fd); throw NamespaceError.connect(where_, soErr != 0 ? soErr : errno) }
        }
        _ = fcntl(fd, F_SETFL, flags)
        return fd
    }
}

final class ResultBox<T: Sendable>: @unchecked Sendable {
    private let cond = NSCondition()
    private var result: Result<T, Error>?
    func set(_ r: Result<T, Error>) { cond.lock(); result = r; cond.broadcast(); cond.unlock() }
    func wait() -> Result<T, Error> {
        cond.lock(); defer { cond.unlock() }
        while result == nil { cond.wait() }
        return result!
    }
}
