#if canImport(Glibc)
import Glibc
#endif
import Syscall

/// http: the server serves a generated object of the requested size on the agent's port;
/// the client fetches it N times with libcurl, reusing one connection and then with a new
/// connection per fetch, and reports libcurl's own connect, first-byte and total timers.
public enum HTTPTest {
    /// Paths are `/cloudbench/<session id>/<size>.js`; nothing else is served.
    static func path(_ sessionID: String, _ size: Int) -> String { "/cloudbench/\(sessionID)/\(size).js" }

    /// Incompressible bytes, like the gzipped JavaScript files the reference study timed.
    static func body(_ size: Int) -> [UInt8] {
        var x: UInt64 = 0x2545_f491_4f6c_dd1d
        return (0..<size).map { _ in x ^= x << 13; x ^= x >> 7; x ^= x << 17; return UInt8(truncatingIfNeeded: x) }
    }

    /// Connections the server keeps open at once (the client uses one at a time).
    static let maxConnections = 8
    /// Seconds a connection may stay silent before the server closes it.
    static let idleTimeout = 5.0

    static func serve(_ s: ServerSession) throws {
        let r = s.request
        let body = HTTPTest.body(r.size)
        let header = "HTTP/1.1 200 OK\r\nContent-Type: application/javascript\r\nContent-Length: \(r.size)\r\nCache-Control: no-store\r\n\r\n"
        let notFound = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        let wanted = "GET \(path(s.sessionID, r.size)) "
        try s.send("GO\n")
        // Connections are served one request at a time, all from this thread: the client is sequential.
        // At most `maxConnections` stay open, and one silent for `idleTimeout` is closed: strays
        // that connect to the port cannot pile up or hold it.
        var conns: [(socket: Socket, pending: [UInt8], lastActive: Double)] = []
        let giveUp = Clock.now() + 600
        while Clock.now() < giveUp {
            let now = Clock.now()
            conns.removeAll { c in
                guard now - c.lastActive > idleTimeout else { return false }
                c.socket.close()
                return true
            }
            var fds = [pollfd(fd: s.control.fd, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: s.listener.fd, events: Int16(POLLIN), revents: 0)]
            fds += conns.map { pollfd(fd: $0.socket.fd, events: Int16(POLLIN), revents: 0) }
            if try Posix.poll(&fds, until: Deadline(seconds: 1)) == 0 { continue }
            if fds[0].revents != 0 { break }  // the client said DONE or went away
            let polled = conns.count
            if fds[1].revents != 0, let (conn, _) = try s.listener.accept(timeout: 0) {
                try? conn.setTimeouts(receive: 5, send: 10)
                if conns.count >= maxConnections, let quiet = conns.indices.min(by: { conns[$0].lastActive < conns[$1].lastActive }),
                   quiet < polled {
                    conns[quiet].socket.close()
                    conns[quiet].lastActive = -.infinity  // closed below, with the ones that ended
                }
                conns.append((conn, [], Clock.now()))
            }
            var closed: [Int] = []
            for i in 0..<polled where fds[i + 2].revents != 0 {
                var chunk = [UInt8](repeating: 0, count: 8192)
                // EOF, a reset or nothing after all: the client is done with this connection.
                let got = chunk.withUnsafeMutableBytes {
                    (try? Posix.recv(conns[i].socket.fd, $0.baseAddress!, $0.count, flags: Int32(MSG_DONTWAIT)))?.value ?? 0
                }
                if got <= 0 { closed.append(i); continue }
                conns[i].lastActive = Clock.now()
                conns[i].pending += chunk[0..<got]
                guard conns[i].pending.count <= 16384 else { closed.append(i); continue }
                // Serve every complete request header in the buffer.
                while let end = headerEnd(conns[i].pending) {
                    let request = String(decoding: conns[i].pending[0..<end], as: UTF8.self)
                    conns[i].pending.removeFirst(end + 4)
                    do {
                        if request.hasPrefix(wanted) {
                            try conns[i].socket.writeAll(header)
                            try body.withUnsafeBytes { try conns[i].socket.writeAll($0) }
                        } else {
                            try conns[i].socket.writeAll(notFound)
                            closed.append(i)
                            break
                        }
                    } catch {
                        closed.append(i)
                        break
                    }
                }
            }
            closed += conns.indices.filter { conns[$0].lastActive == -.infinity }
            for i in Set(closed).sorted(by: >) { conns[i].socket.close(); conns.remove(at: i) }
        }
        for c in conns { c.socket.close() }
    }

    static func headerEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for i in 0...(bytes.count - 4) where bytes[i] == 13 && bytes[i + 1] == 10 && bytes[i + 2] == 13 && bytes[i + 3] == 10 {
            return i
        }
        return nil
    }

    static func run(_ c: ClientSession) throws -> JSON {
        let curl = try Curl()
        let r = c.request
        try c.awaitGo()
        let host = c.server.family == AF_INET6 ? "[\(c.server.host)]" : c.server.host
        let url = "http://\(host):\(c.server.port)\(path(c.sessionID, r.size))"
        var modes: [(String, JSON)] = []
        for (name, fresh) in [("reuse", false), ("new_connection", true)] {
            var timings: [Curl.Timing] = []
            // The handle lives only for its mode, so reused connections are closed before the next.
            do {
                let handle = try Curl.Handle(curl, freshConnection: fresh, timeout: 60)
                for _ in 0..<r.effectiveCount {
                    let t = try handle.fetch(url)
                    guard t.bytes == r.size else {
                        throw AgentError.failed("fetched \(t.bytes) bytes instead of \(r.size) from \(url)")
                    }
                    timings.append(t)
                }
            }
            let connect = Percentiles(timings.map(\.connect))!, first = Percentiles(timings.map(\.firstByte))!
            let total = Percentiles(timings.map(\.total))!
            modes.append((name, .object([
                ("fetches", .int(timings.count)),
                ("connect_us", connect.json()),
                ("first_byte_us", first.json()),
                ("total_us", total.json()),
                ("bytes_per_second", .double(Double(r.size) / (total.mean * 1e-6))),
            ])))
        }
        try c.control.writeAll("DONE\n")
        return .object(AgentJSON.header(.http) + [
            ("size", .int(r.size)),
            ("count", .int(r.effectiveCount)),
            ("libcurl", .string(curl.version)),
        ] + modes)
    }
}
