#if canImport(Glibc)
import Glibc
#endif
import Syscall

/// Connections accepted on a listener that have not yet sent their first line, read all at
/// once with `poll`: a peer that stays silent or sends one byte a second holds one slot for
/// at most `budget` seconds and never delays a peer that sends its line at once.
///
/// At most `capacity` connections wait; when another arrives, the one that has waited longest
/// is dropped, so strays cannot lock a real client out.
final class PendingConnections {
    struct Waiting {
        let socket: Socket
        let peer: SocketAddress
        var bytes: [UInt8] = []
        var deadline: Double
    }

    let listener: Socket
    let capacity: Int
    let budget: Double
    let maxLine: Int
    let log: (String) -> Void
    private(set) var waiting: [Waiting] = []

    init(listener: Socket, capacity: Int, budget: Double, maxLine: Int, log: @escaping (String) -> Void) {
        self.listener = listener
        self.capacity = capacity
        self.budget = budget
        self.maxLine = maxLine
        self.log = log
    }

    deinit { closeAll() }

    func closeAll() {
        for w in waiting { w.socket.close() }
        waiting = []
    }

    /// Gives every waiting connection `seconds` more (the time the server spent on a test,
    /// when nobody read them).
    func extendDeadlines(by seconds: Double) {
        for i in waiting.indices { waiting[i].deadline += seconds }
    }

    /// The next connection that sent a whole line (without its `\n` or `\r\n`), or nil when
    /// the clock reaches `until` first, or as soon as `wakeOn` (another descriptor: a test's
    /// control connection) has something to read or has closed. Connections that close, overrun
    /// `maxLine`, send something that is not UTF-8 or exhaust their budget are dropped and logged.
    func nextLine(until: Double, wakeOn: Int32? = nil) throws -> (socket: Socket, peer: SocketAddress, line: String)? {
        while true {
            let now = Clock.now()
            dropExpired(now)
            guard now < until else { return nil }
            let wake = waiting.map(\.deadline).reduce(until, min)
            var fds = waiting.map { pollfd(fd: $0.socket.fd, events: Int16(POLLIN), revents: 0) }
            fds.insert(pollfd(fd: listener.fd, events: Int16(POLLIN), revents: 0), at: 0)
            if let wakeOn { fds.append(pollfd(fd: wakeOn, events: Int16(POLLIN), revents: 0)) }
            if try Posix.poll(&fds, until: Deadline(seconds: max(0, min(wake - now, 1)))) == 0 { continue }
            if wakeOn != nil, fds[fds.count - 1].revents != 0 { return nil }
            let polled = waiting.count
            var done: [Int] = []
            var found: (Int, String)?
            for i in 0..<polled where fds[i + 1].revents != 0 && found == nil {
                switch read(&waiting[i]) {
                case .none: break
                case .line(let l): found = (i, l)
                case .closed:
                    log("dropped a connection from \(waiting[i].peer.host): closed before sending a request")
                    done.append(i)
                case .invalid, .timedOut:
                    log("dropped a connection from \(waiting[i].peer.host): not a cloudbench-agent request (binary or overlong)")
                    done.append(i)
                }
            }
            var result: (Socket, SocketAddress, String)?
            if let (i, line) = found {
                result = (waiting[i].socket, waiting[i].peer, line)
                done.append(i)
            }
            for i in done.sorted(by: >) {
                if result?.0 !== waiting[i].socket { waiting[i].socket.close() }
                waiting.remove(at: i)
            }
            if fds[0].revents != 0 { try acceptOne() }
            if let result { return result }
        }
    }

    private func acceptOne() throws {
        guard let (conn, peer) = try listener.accept(timeout: 0) else { return }
        if waiting.count >= capacity {
            let oldest = waiting.removeFirst()
            log("dropped a connection from \(oldest.peer.host): \(capacity) connections were waiting for their first line")
            oldest.socket.close()
        }
        waiting.append(Waiting(socket: conn, peer: peer, deadline: Clock.now() + budget))
    }

    private func dropExpired(_ now: Double) {
        waiting.removeAll { w in
            guard w.deadline <= now else { return false }
            log("dropped a connection from \(w.peer.host): no request line within \(formatSeconds(budget)) s")
            w.socket.close()
            return true
        }
    }

    /// Reads what has arrived, one byte at a time so that nothing after the line is consumed.
    /// `.none`: no whole line yet.
    private func read(_ w: inout Waiting) -> Socket.LineResult? {
        var byte: UInt8 = 0
        while w.bytes.count < maxLine {
            let n: Int
            do {
                guard let got = try Posix.recv(w.socket.fd, &byte, 1, flags: Int32(MSG_DONTWAIT)).value else { return nil }
                n = got
            } catch {
                return .closed  // a reset
            }
            if n == 0 { return .closed }
            if byte == UInt8(ascii: "\n") {
                if w.bytes.last == UInt8(ascii: "\r") { w.bytes.removeLast() }
                return String(validating: w.bytes, as: UTF8.self).map { .line($0) } ?? .invalid
            }
            w.bytes.append(byte)
        }
        return .invalid
    }
}
