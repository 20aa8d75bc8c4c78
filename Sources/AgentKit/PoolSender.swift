#if canImport(Glibc)
import Glibc
#endif
import AgentContract
import Syscall

/// `cloudbench-agent send`: another client's flows of a pooled group step (several clients through
/// one middle). The client that runs the step (`run --servers … --flows N`) has every server accept
/// the test and counts the flows as they land; this process only opens its own and sends.
///
///     cloudbench-agent send --send FLOW=ADDR:PORT,… --deadline SECONDS [--message-size BYTES] [--lease FILE]
///
/// The pool id comes on standard input. Each flow connects and says `DATA <pool> <flow>` until a
/// server answers `IN` (a server that is not yet in the step drops it: this process may start
/// first), then every flow sends until its server resets it at the end of its window, or the
/// deadline. It prints one JSON line: each flow's bytes sent and retransmits.
public enum PoolSender {
    public struct Options: Sendable {
        public var flows: [PoolFlow]
        public var pool: String
        public var deadline: Double
        public var messageSize: Int
        /// The host's lease, renewed while this runs (as `run --lease` does).
        public var lease: String? = nil
    }

    /// Between tries of a flow that no server took yet.
    static let retryPause = 0.2
    /// How long the flows may take to land: a little more than the step's client waits for them
    /// (`GroupBandwidthTest.landingTimeout`), so a step that failed does not keep this trying.
    static let landingLimit = GroupBandwidthTest.landingTimeout + 10

    public static func parse(_ arguments: [String], standardInput: () -> String? = Invocation.tokenFromStandardInput) throws -> Options {
        var flags: [String: String] = [:]
        var rest = arguments[...]
        while let flag = rest.popFirst() {
            guard ["--send", "--deadline", "--message-size", "--lease"].contains(flag) else { throw AgentError.usage("unknown option '\(flag)' for send") }
            guard let v = rest.popFirst() else { throw AgentError.usage("\(flag) needs a value") }
            flags[flag] = v
        }
        guard let send = flags["--send"] else { throw AgentError.usage("send needs --send FLOW=ADDR:PORT,…") }
        guard let d = flags["--deadline"].flatMap(Double.init), AgentLimits.deadline.contains(d) else {
            throw AgentError.usage("send needs --deadline SECONDS, from \(AgentLimits.describe(AgentLimits.deadline))")
        }
        var size = 0
        if let m = flags["--message-size"] {
            guard let n = Int(m), AgentLimits.messageSize.contains(n) else {
                throw AgentError.usage("--message-size must be from \(AgentLimits.describe(AgentLimits.messageSize)) bytes")
            }
            size = n
        }
        if let lease = flags["--lease"], lease.isEmpty || lease.utf8.count > 4096 {
            throw AgentError.usage("--lease needs a file name of at most 4096 bytes")
        }
        let flows = try PoolFlow.parseList("--send", send, flows: AgentLimits.groupFlows.upperBound)
        var o = Options(flows: flows, pool: try PoolFlow.poolID(standardInput()), deadline: d, messageSize: size)
        o.lease = flags["--lease"]
        return o
    }

    public static func run(_ o: Options) throws -> JSON {
        signal(SIGPIPE, SIG_IGN)
        if let lease = o.lease { Lease.keepRenewed(lease) }
        defer { if let lease = o.lease { Lease.renew(lease) } }
        let end = Clock.now() + o.deadline
        var sockets: [Socket] = []
        let landBy = min(end, Clock.now() + landingLimit)
        for f in o.flows { sockets.append(try land(f, pool: o.pool, until: landBy)) }
        let size = o.messageSize > 0 ? o.messageSize : TestRequest(test: .tcpBandwidth).effectiveMessageSize
        let threads = try sockets.map { s in try WorkerThread<(Int, Bool)> { pump(s, size: size, until: end) } }
        let sent = threads.map { $0.join() }
        let flows: [JSON] = zip(o.flows, zip(sockets, sent)).map { f, pair in
            .object([("flow", .int(f.flow)), ("to", .string(f.to.description)), ("bytes", .int(pair.1.0)),
                     ("retransmits", .int(pair.0.tcpInfo().totalRetransmits ?? 0)), ("ended_by_server", .bool(pair.1.1))])
        }
        for s in sockets { s.close() }
        if let i = sent.firstIndex(where: { !$0.1 }) {
            throw AgentError.failed("flow \(o.flows[i].flow + 1) to \(o.flows[i].to): the server did not end it before the deadline of \(formatSeconds(o.deadline)) s")
        }
        return .object([("flows", .array(flows))])
    }

    /// Connects and introduces flow `f` until a server takes it (`IN`).
    static func land(_ f: PoolFlow, pool: String, until end: Double) throws -> Socket {
        var last = "no try"
        while Clock.now() < end {
            do {
                let s = try Socket.connect(to: f.to, timeout: min(5, max(0.1, end - Clock.now())))
                try s.setTimeouts(receive: nil, send: 10)
                try s.writeAll("DATA \(pool) \(f.flow)\n")
                switch try s.readLineResult(maxBytes: 16, timeout: 5) {
                case .line("IN"): return s
                case .closed: last = "dropped (no server had the step yet)"
                case .timedOut: last = "no answer within 5 s"
                default: last = "an answer that is not the agent's"
                }
                s.close()
            } catch {
                last = "\(error)"
            }
            Clock.sleep(retryPause)
        }
        throw AgentError.failed("flow \(f.flow + 1): no server took it through \(f.to) before the deadline (last try: \(last))")
    }

    /// Writes until the server resets or closes the connection (its window ended: true) or the
    /// deadline (false); the bytes written.
    static func pump(_ s: Socket, size: Int, until end: Double) -> (Int, Bool) {
        // The same bytes as the step's own senders: they do not compress.
        let buffer = [UInt8](unsafeUninitializedCapacity: size) { p, n in
            TCPStreams.fillIncompressible(UnsafeMutableRawPointer(p.baseAddress!), count: size)
            n = size
        }
        var bytes = 0
        while Clock.now() < end {
            do {
                try buffer.withUnsafeBytes { try s.writeAll($0) }
                bytes += size
            } catch let e as SystemError where e.errno == EAGAIN || e.errno == EWOULDBLOCK {
                continue  // the server does not read yet: it waits for the step's other flows
            } catch {
                return (bytes, true)
            }
        }
        return (bytes, false)
    }
}
