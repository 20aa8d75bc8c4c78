#if canImport(Glibc)
import Glibc
#endif
import AgentContract
import Synchronization
import Syscall

/// `cloudbench-agent relay`: the TCP relay cloudbench runs on a `through` group's middle host, the
/// stand-in for a load balancer or a proxy: each listening port forwards every connection to one
/// backend's agent, so a flow's bytes cross the middle's network twice, in and out.
///
///     cloudbench-agent relay --listen ADDR --routes PORT=ADDR:PORT,… --deadline SECONDS
///                            [--allow ADDR,…] [--lease FILE]
///
/// It prints `READY pid=PID port=FIRST_PORT` once every port listens (as `serve` does), then
/// relays until the deadline, SIGTERM, or the end of its lease. The backends' agents authenticate
/// every test; the relay only carries bytes, only from `--allow`'s addresses (cloudbench passes the
/// group's client), at most `maxConnections` connections at once. A reset on one side resets the
/// other (a receiver's end of window reaches the sender at once), an end of stream is passed on as
/// one; a side that has ended gives the other `halfOpenSeconds`, and a write waits at most
/// `sendTimeout`.
public enum Relay {
    public struct Route: Sendable {
        public var port: UInt16
        public var to: SocketAddress
    }

    public struct Options: Sendable {
        public var listen: String
        public var routes: [Route]
        public var deadline: Double
        public var lease: String?
        /// Only these peers are relayed (`--allow`); empty: any.
        public var allow: [String] = []
    }

    static let maxConnections = 256
    static let halfOpenSeconds = 10.0
    static let sendTimeout = 10.0
    static let maxRoutes = 64
    static let bufferSize = 256 * 1024

    /// Connections relayed now, and whether one connection's thread has ended.
    final class Count: Sendable { let value = Atomic<Int>(0) }
    final class Flag: Sendable { let value = Atomic<Bool>(false) }

    static func log(_ message: String) { printError("cloudbench-agent relay: \(message)") }

    public static func parse(_ arguments: [String]) throws -> Options {
        var flags: [String: String] = [:]
        var rest = arguments[...]
        while let flag = rest.popFirst() {
            guard ["--listen", "--routes", "--deadline", "--lease", "--allow"].contains(flag) else {
                throw AgentError.usage("unknown option '\(flag)' for relay")
            }
            guard let v = rest.popFirst() else { throw AgentError.usage("\(flag) needs a value") }
            flags[flag] = v
        }
        guard let listen = flags["--listen"], (try? address(listen, port: 1)) != nil else {
            throw AgentError.usage("relay needs --listen ADDR, an IP address of this host")
        }
        var allow: [String] = []
        if let list = flags["--allow"] {
            let items = list.split(separator: ",").map(String.init)
            guard !items.isEmpty, items.count <= maxRoutes else { throw AgentError.usage("--allow takes 1 to \(maxRoutes) addresses") }
            for item in items {
                guard let a = try? address(item, port: 1) else { throw AgentError.usage("--allow: '\(item)' is not an IP address") }
                allow.append(a.host)
            }
        }
        guard let text = flags["--routes"] else { throw AgentError.usage("relay needs --routes PORT=ADDR:PORT,…") }
        let items = text.split(separator: ",")
        guard !items.isEmpty, items.count <= maxRoutes else { throw AgentError.usage("--routes takes 1 to \(maxRoutes) PORT=ADDR:PORT") }
        var routes: [Route] = []
        for item in items {
            let parts = item.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, let port = UInt16(parts[0]), port > 0 else {
                throw AgentError.usage("--routes: '\(item)' is not PORT=ADDR:PORT")
            }
            guard !routes.contains(where: { $0.port == port }) else { throw AgentError.usage("--routes: port \(port) is given twice") }
            routes.append(Route(port: port, to: try SocketAddress(parsing: String(parts[1]))))
        }
        guard let d = flags["--deadline"].flatMap(Double.init), AgentLimits.deadline.contains(d) else {
            throw AgentError.usage("relay needs --deadline SECONDS, from \(AgentLimits.describe(AgentLimits.deadline))")
        }
        if let lease = flags["--lease"], lease.isEmpty || lease.utf8.count > 4096 {
            throw AgentError.usage("--lease needs a file name of at most 4096 bytes")
        }
        var options = Options(listen: listen, routes: routes, deadline: d, lease: flags["--lease"])
        options.allow = allow
        return options
    }

    /// `IP` and a port as a socket address (IPv6 in brackets).
    static func address(_ ip: String, port: UInt16) throws -> SocketAddress {
        try SocketAddress(parsing: ip.contains(":") ? "[\(ip)]:\(port)" : "\(ip):\(port)")
    }

    /// Relays until the deadline, a signal or the end of the lease; returns only by exiting.
    public static func run(_ o: Options) throws -> Never {
        signal(SIGPIPE, SIG_IGN)
        let listeners = try o.routes.map { try Socket.listen(on: try address(o.listen, port: $0.port)) }
        if let lease = o.lease { try Lease.hold(lease, log: { log($0) }) }
        let deadline = Clock.now() + o.deadline
        _ = try WorkerThread<Void> {
            Clock.sleep(deadline - Clock.now())
            log("deadline of \(formatSeconds(o.deadline)) s reached; exiting")
            _exit(0)
        }
        let active = Count()
        for (listener, route) in zip(listeners, o.routes) {
            _ = try WorkerThread<Void> { accept(listener, route: route, allow: o.allow, active: active) }
        }
        log("\(AgentVersion.version) relaying " + o.routes.map { "\($0.port) → \($0.to)" }.joined(separator: ", "))
        Server.ready(port: o.routes[0].port)
        while true { Clock.sleep(3600) }
    }

    private static func accept(_ listener: Socket, route: Route, allow: [String], active: Count) {
        var running: [(WorkerThread<Void>, Flag)] = []
        while true {
            let accepted: (Socket, SocketAddress)?
            do { accepted = try listener.accept(timeout: 1) } catch {
                // Out of descriptors, say: try again shortly rather than spin.
                Clock.sleep(0.1)
                continue
            }
            guard let (client, from) = accepted else { continue }
            if !allow.isEmpty && !allow.contains(from.host) {
                log("refused a connection from \(from.host): not the group's client")
                client.setLingerReset()
                continue
            }
            // Threads of connections that ended are joined, so that a long run holds none of them.
            running.removeAll { thread, done in
                guard done.value.load(ordering: .acquiring) else { return false }
                thread.join()
                return true
            }
            // Reserved before it is checked: the routes' accept threads share the count.
            guard active.value.add(1, ordering: .relaxed).newValue <= maxConnections else {
                active.value.subtract(1, ordering: .relaxed)
                log("refused a connection from \(from.host): \(maxConnections) connections are relayed already")
                continue
            }
            let done = Flag()
            do {
                let thread = try WorkerThread<Void> {
                    defer { active.value.subtract(1, ordering: .relaxed); done.value.store(true, ordering: .releasing) }
                    guard let backend = try? Socket.connect(to: route.to, timeout: 5) else {
                        log("could not reach \(route.to) for a connection from \(from.host)")
                        client.setLingerReset()
                        return
                    }
                    splice(client, backend)
                }
                running.append((thread, done))
            } catch {
                active.value.subtract(1, ordering: .relaxed)
                log("no thread for a connection from \(from.host): \(error)")
            }
        }
    }

    /// Copies both ways until both ends have finished, or one resets (then the other is reset too).
    static func splice(_ a: Socket, _ b: Socket) {
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: bufferSize, alignment: 64)
        defer { buffer.deallocate(); a.close(); b.close() }
        try? a.setTimeouts(receive: nil, send: sendTimeout)
        try? b.setTimeouts(receive: nil, send: sendTimeout)
        var halfOpenSince: Double?
        var fds = [pollfd(fd: a.fd, events: Int16(POLLIN), revents: 0), pollfd(fd: b.fd, events: Int16(POLLIN), revents: 0)]
        var ended = [false, false]
        let sockets = [a, b]
        while !(ended[0] && ended[1]) {
            if let since = halfOpenSince, Clock.now() - since > halfOpenSeconds {
                // One side ended long ago and the other stays open: a peer that will not finish.
                a.setLingerReset()
                b.setLingerReset()
                return
            }
            let n = poll(&fds, 2, 1000)
            if n < 0 { if errno == EINTR { continue }; return }
            for i in 0..<2 where !ended[i] && fds[i].revents != 0 {
                let from = sockets[i], to = sockets[1 - i]
                let got = recv(from.fd, buffer, bufferSize, Int32(MSG_DONTWAIT))
                if got > 0 {
                    var off = 0
                    while off < got {
                        let sent = send(to.fd, buffer + off, got - off, Int32(MSG_NOSIGNAL))
                        if sent > 0 { off += sent; continue }
                        if sent < 0 && errno == EINTR { continue }
                        // The other side went away: it must not look like a clean end here.
                        from.setLingerReset()
                        return
                    }
                } else if got == 0 {
                    ended[i] = true
                    fds[i].fd = -1
                    shutdown(to.fd, Int32(SHUT_WR))
                    halfOpenSince = halfOpenSince ?? Clock.now()
                } else if errno != EAGAIN && errno != EINTR {
                    to.setLingerReset()
                    return
                }
            }
        }
    }
}
