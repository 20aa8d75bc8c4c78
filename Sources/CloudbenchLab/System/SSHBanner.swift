import Foundation
import NetNS
#if canImport(Glibc)
import Glibc
#endif

/// Reads an SSH server's identification line (`SSH-2.0-…`) from inside a namespace.
public enum SSHBanner {
    /// Connects from `namespace` to `host:port` and returns the first line the server sends.
    public static func read(from namespace: Namespace, host: String, port: UInt16 = 22, timeout: Double = 3) throws -> String {
        let fd = try namespace.connectTCP(host: host, port: port, timeout: timeout)
        defer { close(fd) }
        var line = [UInt8]()
        let deadline = Date().addingTimeInterval(timeout)
        var byte: UInt8 = 0
        while line.count < 255 {
            let left = deadline.timeIntervalSinceNow
            guard left > 0 else { throw LabError("\(host):\(port) sent no SSH banner within \(timeout) s") }
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&pfd, 1, Int32(left * 1000))
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0 else { continue }
            let n = Glibc.read(fd, &byte, 1)
            if n < 0 && errno == EINTR { continue }
            guard n == 1 else { break }
            if byte == UInt8(ascii: "\n") { break }
            if byte != UInt8(ascii: "\r") { line.append(byte) }
        }
        return String(decoding: line, as: UTF8.self)
    }

    /// Waits until the server at `host:port` answers with an `SSH-2.0` banner, or throws after `timeout`.
    public static func wait(from namespace: Namespace, host: String, port: UInt16 = 22, timeout: Double = 10) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        var last: Error = LabError("\(host):\(port) did not answer")
        while Date() < deadline {
            do {
                let banner = try read(from: namespace, host: host, port: port, timeout: min(3, max(0.5, deadline.timeIntervalSinceNow)))
                if banner.hasPrefix("SSH-2.0") { return banner }
                last = LabError("\(host):\(port) answered '\(banner)', not an SSH-2.0 banner")
            } catch {
                last = error
            }
            usleep(100_000)
        }
        throw last
    }
}
