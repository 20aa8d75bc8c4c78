#if canImport(Glibc)
import Glibc
#endif
import AgentContract
import Syscall

/// `cloudbench-agent reach` and `cloudbench-agent reach-answer`: can the client open the ports a
/// run needs on the server, before anything listens there for real?
///
///     cloudbench-agent reach-answer --listen IP [--tcp PORT] [--udp PORT]... --deadline SECONDS
///     cloudbench-agent reach        --server IP [--tcp PORT] [--udp PORT]... --timeout SECONDS
///
/// The answerer accepts (and closes) TCP connections and echoes the probe's datagrams, only
/// datagrams that carry `ReachCommand.magic` and at most `maxAnswers` of them, so it cannot be
/// used as a reflector. It prints `listening PROTO PORT` or `busy PROTO PORT: REASON` per port,
/// then `ready`, and serves until its deadline or SIGTERM.
///
/// The probe prints one line per port: `PROTO PORT open|refused|timeout|unreachable`, and exits 0
/// whatever it found (the orchestrator judges).
public enum ReachCommand {
    public static let usage = """
        usage: cloudbench-agent reach-answer --listen IP [--tcp PORT] [--udp PORT]... --deadline SECONDS
               cloudbench-agent reach --server IP [--tcp PORT] [--udp PORT]... --timeout SECONDS
        """
    /// What a probe datagram carries (and what an answer echoes).
    public static let magic = Array("cloudbench-reach 1\n".utf8)
    /// Datagrams answered per run, at most.
    static let maxAnswers = 1000
    /// Ports per command, at most (a run needs three).
    static let maxPorts = 16

    struct Arguments {
        var address: String
        var tcp: [UInt16] = []
        var udp: [UInt16] = []
        var seconds: Double
    }

    static func parse(_ arguments: [String], addressFlag: String, secondsFlag: String,
                      range: ClosedRange<Double>) throws(AgentError) -> Arguments {
        var address: String?, seconds: Double?
        var tcp: [UInt16] = [], udp: [UInt16] = []
        var rest = arguments[...]
        while let flag = rest.popFirst() {
            guard [addressFlag, secondsFlag, "--tcp", "--udp"].contains(flag) else {
                throw AgentError.usage("unknown option '\(flag)'")
            }
            guard let v = rest.popFirst() else { throw AgentError.usage("\(flag) needs a value") }
            switch flag {
            case addressFlag:
                guard (try? SocketAddress(host: v, port: 1)) != nil else { throw AgentError.usage("\(flag) '\(v)' is not a numeric address") }
                address = v
            case secondsFlag:
                guard let s = Double(v), range.contains(s) else {
                    throw AgentError.usage("\(flag) must be from \(range.lowerBound) to \(range.upperBound) seconds")
                }
                seconds = s
            default:
                guard let p = UInt16(v), p > 0 else { throw AgentError.usage("\(flag) '\(v)' is not a port from 1 to 65535") }
                if flag == "--tcp" { tcp.append(p) } else { udp.append(p) }
                guard tcp.count + udp.count <= maxPorts else { throw AgentError.usage("at most \(maxPorts) ports") }
            }
        }
        guard let address else { throw AgentError.usage("missing \(addressFlag)") }
        guard let seconds else { throw AgentError.usage("missing \(secondsFlag)") }
        guard !(tcp.isEmpty && udp.isEmpty) else { throw AgentError.usage("nothing to check: give --tcp or --udp") }
        return Arguments(address: address, tcp: tcp, udp: udp, seconds: seconds)
    }

    // MARK: the answering end

    /// Binds what it can, says what it bound, and answers until the deadline or SIGTERM.
    /// SIGTERM and SIGINT end the process at once (their default action: it holds nothing the
    /// kernel does not release), so the orchestrator's stop returns as soon as it is sent.
    /// `handleSignals` false leaves the process's signal handlers alone (a test in process
    /// stops it by its deadline).
    public static func answer(_ arguments: [String], handleSignals: Bool = true, emit: (String) -> Void) throws(AgentError) {
        let a = try parse(arguments, addressFlag: "--listen", secondsFlag: "--deadline", range: 1...AgentLimits.deadline.upperBound)
        var listeners: [Socket] = [], datagrams: [Socket] = []
        do {
            for p in a.tcp {
                do { listeners.append(try Socket.listen(on: try SocketAddress(host: a.address, port: p))); emit("listening tcp \(p)") }
                catch { emit("busy tcp \(p): \(error)") }
            }
            for p in a.udp {
                do { datagrams.append(try bindExclusive(try SocketAddress(host: a.address, port: p))); emit("listening udp \(p)") }
                catch { emit("busy udp \(p): \(error)") }
            }
        }
        emit("ready")
        if handleSignals { for sig in [SIGTERM, SIGINT] { signal(sig, SIG_DFL) } }
        let deadline = Deadline(seconds: a.seconds)
        var answered = 0
        var buffer = [UInt8](repeating: 0, count: 256)
        while !deadline.expired {
            var fds = (listeners + datagrams).map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
            guard !fds.isEmpty else { return }
            let n: Int
            do { n = try Posix.poll(&fds, until: Deadline(seconds: deadline.secondsRemaining)) }
            catch { throw AgentError.failed("\(error)") }
            if n == 0 { continue }
            for (i, l) in listeners.enumerated() where fds[i].revents != 0 {
                if let (conn, _) = try? l.accept(timeout: 0) { conn.close() }
            }
            for (j, d) in datagrams.enumerated() where fds[listeners.count + j].revents != 0 {
                var from = sockaddr_storage()
                var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
                let got = buffer.withUnsafeMutableBytes { b in
                    withUnsafeMutablePointer(to: &from) { p in
                        p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sp in
                            (try? Posix.recvfrom(d.fd, b.baseAddress!, b.count, flags: Int32(MSG_DONTWAIT), sp, &len))?.value
                        }
                    }
                }
                guard let got, got >= magic.count, Array(buffer[0..<magic.count]) == magic, answered < maxAnswers else { continue }
                answered += 1
                _ = buffer.withUnsafeBytes { b in
                    withUnsafePointer(to: &from) { p in
                        p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sp in
                            try? Posix.sendto(d.fd, b.baseAddress!, got, flags: Int32(MSG_DONTWAIT), sp, len)
                        }
                    }
                }
            }
        }
    }

    /// A UDP socket bound without SO_REUSEADDR: a port the host already uses (a kernel VXLAN
    /// socket of the host's own overlay) is reported busy rather than shared.
    static func bindExclusive(_ address: SocketAddress) throws -> Socket {
        let s = try Socket.make(for: address, type: Int32(SOCK_DGRAM.rawValue))
        do {
            try address.withSockaddr { p, l throws(SystemError) in try Posix.bind(s.fd, p, l) }
        } catch {
            throw AgentError.failed("cannot bind UDP \(address): \(error.reason)")
        }
        return s
    }

    // MARK: the probing end

    /// What one port's probe found.
    public enum Verdict: String, Sendable {
        case open, refused, timeout, unreachable
    }

    /// Probes every port in turn, each within the timeout; prints one line per port.
    public static func probe(_ arguments: [String], emit: (String) -> Void) throws(AgentError) {
        let a = try parse(arguments, addressFlag: "--server", secondsFlag: "--timeout", range: 0.1...60)
        func at(_ port: UInt16) throws(AgentError) -> SocketAddress {
            do { return try SocketAddress(host: a.address, port: port) } catch { throw AgentError.usage("bad address '\(a.address)'") }
        }
        for p in a.tcp { emit("tcp \(p) \(probeTCP(try at(p), timeout: a.seconds).rawValue)") }
        for p in a.udp { emit("udp \(p) \(probeUDP(try at(p), timeout: a.seconds).rawValue)") }
    }

    static func verdict(_ errno: Int32) -> Verdict {
        switch errno {
        case ECONNREFUSED: return .refused
        case ETIMEDOUT: return .timeout
        default: return .unreachable
        }
    }

    static func probeTCP(_ address: SocketAddress, timeout: Double) -> Verdict {
        do {
            let s = try Socket.make(for: address, type: Int32(SOCK_STREAM.rawValue))
            defer { s.close() }
            try address.withSockaddr { p, l throws(SystemError) in try Posix.connect(s.fd, p, l, until: Deadline(seconds: timeout)) }
            return .open
        } catch let e as SystemError {
            return verdict(e.errno)
        } catch {
            return .unreachable
        }
    }

    /// Sends the probe datagram every half second until an answer comes back or the timeout passes.
    static func probeUDP(_ address: SocketAddress, timeout: Double) -> Verdict {
        do {
            let s = try Socket.make(for: address, type: Int32(SOCK_DGRAM.rawValue))
            defer { s.close() }
            try s.connect(address)
            let deadline = Deadline(seconds: timeout)
            var buffer = [UInt8](repeating: 0, count: 256)
            while !deadline.expired {
                _ = try magic.withUnsafeBytes { b throws(SystemError) in try Posix.send(s.fd, b.baseAddress!, b.count, flags: Int32(MSG_DONTWAIT)) }
                let until = Deadline(seconds: min(0.5, deadline.secondsRemaining))
                while !until.expired {
                    guard try Posix.wait(s.fd, for: Int16(POLLIN), until: until) else { break }
                    let got = try buffer.withUnsafeMutableBytes { b throws(SystemError) in
                        try Posix.recv(s.fd, b.baseAddress!, b.count, flags: Int32(MSG_DONTWAIT))
                    }
                    if let n = got.value, n >= magic.count, Array(buffer[0..<magic.count]) == magic { return .open }
                }
            }
            return .timeout
        } catch let e as SystemError {
            return verdict(e.errno)
        } catch {
            return .unreachable
        }
    }
}
