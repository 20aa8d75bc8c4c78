import AgentContract

/// What the client asks the server to run: the parameters both sides must agree on.
///
/// Travels on the control connection as one line:
/// `cloudbench-agent/1 TESTID:MAC test=tcp_bw duration=10 warmup=2 streams=1 ...`.
public struct TestRequest: Sendable, Equatable {
    public var test: TestKind
    public var duration: Double = 10
    public var warmup: Double = 2
    public var streams: Int = 1
    /// Bytes per write; 0 picks the test's default (128 KiB, 1 byte or 1472 bytes).
    public var messageSize: Int = 0
    public var reverse: Bool = false
    /// tcp_bw: both directions at once, `streams` each way.
    public var bidirectional: Bool = false
    public var interval: Double = 1
    /// udp_bw: bytes per second the sender aims for (UDP payload); udp_pps: datagrams per second.
    public var rate: Double = 1_000_000
    /// http: object size in bytes.
    public var size: Int = 200_000
    /// http: fetches per mode; tcp_lat: minimum round trips.
    public var count: Int = 0
    /// tcp_bw: the receiver opens its window exactly `warmup` after GO instead of once the rate
    /// has settled, so that the receivers of a group step on several hosts measure the same window
    /// (`window=fixed` on the wire; `GroupBandwidthTest`).
    public var fixedWindow = false
    /// A pooled group step (`pool=ID flows=N`): the step's data connections go through a balancer of
    /// the user's own, or come from several clients; every server of the step accepts any of the
    /// `flows` connections that say `DATA ID <flow>`, and this id, 32 hex digits drawn at random for
    /// the step, is what they share (`ServerSession.acceptPooled`).
    public var pool: String? = nil
    public var flows: Int = 0

    public static let protocolTag = "cloudbench-agent/1"

    public init(test: TestKind) {
        self.test = test
        if test == .udpPackets { rate = 10_000 }
    }

    /// What the UDP sender paces to, in payload bytes per second: `rate` itself for udp_bw,
    /// `rate` datagrams of `effectiveMessageSize` bytes for udp_pps.
    public var bytesPerSecond: Double {
        test == .udpPackets ? rate * Double(effectiveMessageSize) : rate
    }

    /// The message size in effect once defaults are applied.
    public var effectiveMessageSize: Int {
        if messageSize > 0 { return messageSize }
        switch test {
        case .tcpBandwidth: return 128 * 1024
        case .tcpLatency: return 1
        case .udpBandwidth: return 1472
        case .udpPackets: return 64
        case .tcpConnectRequestResponse: return 1
        case .http: return 0
        }
    }

    /// The count in effect once defaults are applied.
    public var effectiveCount: Int {
        if count > 0 { return count }
        switch test {
        case .tcpLatency: return 10_000
        case .http: return 100
        default: return 0
        }
    }

    /// Rejects values no test can run with (`AgentLimits`); the message names the flag and its range.
    public func validate() throws {
        typealias L = AgentLimits
        func bad(_ m: String) -> AgentError { .usage(m) }
        guard L.duration.contains(duration) else { throw bad("--duration must be from \(L.describe(L.duration)) seconds") }
        guard L.warmup.contains(warmup) else { throw bad("--warmup must be from \(L.describe(L.warmup)) seconds") }
        guard L.streams.contains(streams) else { throw bad("--streams must be from \(L.describe(L.streams))") }
        guard L.messageSize.contains(messageSize) else {
            throw bad("--message-size must be from \(L.describe(L.messageSize)) bytes (0: the test's default)")
        }
        if test.isUDP {
            guard L.udpMessageSize.contains(effectiveMessageSize) else {
                throw bad("--message-size for \(test.rawValue) must be from \(L.describe(L.udpMessageSize)) bytes (one datagram)")
            }
        }
        if test == .udpPackets {
            guard L.packetRate.contains(rate) else { throw bad("--rate for udp_pps must be from \(L.describe(L.packetRate)) datagrams per second") }
        } else {
            guard L.rate.contains(rate) else { throw bad("--rate must be from \(L.describe(L.rate)) bytes per second") }
        }
        if bidirectional {
            guard test == .tcpBandwidth else { throw bad("--bidir is for tcp_bw only") }
            guard !reverse else { throw bad("--bidir already runs both directions; drop --reverse") }
        }
        guard L.interval.contains(interval), interval <= duration else {
            throw bad("--interval must be from \(L.describe(L.interval)) seconds and at most --duration")
        }
        guard duration / interval <= Double(L.intervals) else {
            throw bad("--interval cuts --duration into more than \(L.intervals) intervals; make it at least \(duration / Double(L.intervals)) seconds")
        }
        if let pool {
            guard TestKey.isRandomID(pool) else { throw bad("pool must be 32 lower-case hex digits") }
            guard L.groupFlows.contains(flows) else { throw bad("--flows must be from \(L.describe(L.groupFlows))") }
            guard test == .tcpBandwidth, !reverse, !bidirectional, streams == 1, fixedWindow else {
                throw bad("a pool is one tcp_bw stream per flow, client to server, over a fixed window")
            }
        }
        guard L.size.contains(size) else { throw bad("--size must be from \(L.describe(L.size)) bytes") }
        guard L.count.contains(count) else { throw bad("--count must be from \(L.describe(L.count))") }
    }

    /// The request line without the tag and token.
    public func encodedFields() -> String {
        "test=\(test.rawValue) duration=\(duration) warmup=\(warmup) streams=\(streams) message_size=\(messageSize)"
            + " reverse=\(reverse ? 1 : 0) bidir=\(bidirectional ? 1 : 0) interval=\(interval) rate=\(rate) size=\(size) count=\(count)"
            + (fixedWindow ? " window=fixed" : "") + (pool.map { " pool=\($0) flows=\(flows)" } ?? "")
    }

    /// Parses the fields of a request line; throws `.usage` with what was wrong.
    public init(fields: [String: String]) throws {
        guard let name = fields["test"], let test = TestKind(rawValue: name) else {
            throw AgentError.usage("unknown or missing test")
        }
        self.init(test: test)
        func double(_ k: String, _ into: inout Double) throws {
            if let v = fields[k] { guard let d = Double(v), d.isFinite else { throw AgentError.usage("bad \(k)") }; into = d }
        }
        func int(_ k: String, _ into: inout Int) throws {
            if let v = fields[k] { guard let i = Int(v) else { throw AgentError.usage("bad \(k)") }; into = i }
        }
        try double("duration", &duration)
        try double("warmup", &warmup)
        try int("streams", &streams)
        try int("message_size", &messageSize)
        reverse = fields["reverse"] == "1"
        bidirectional = fields["bidir"] == "1"
        try double("interval", &interval)
        try double("rate", &rate)
        try int("size", &size)
        try int("count", &count)
        fixedWindow = fields["window"] == "fixed"
        pool = fields["pool"]
        try int("flows", &flows)
        try validate()
    }
}
