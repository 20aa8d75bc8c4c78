#if canImport(Glibc)
import Glibc
#endif
import AgentContract
import Syscall

/// How `serve` was asked to run.
public struct ServeOptions: Sendable {
    public var listen: SocketAddress
    public var token: String
    public var deadline: Double
    /// The lease file this server holds (`--lease`): it exits once the file goes unrenewed for
    /// `LeaseTerms.expiry` seconds or is removed.
    public var lease: String? = nil
    /// Where a user-space tunnel on this host keeps its counts (`--tunnel-stats`, `TunnelStats`):
    /// while one runs, each test's `HOST` line carries its counts and CPU over the test.
    public var tunnelStats: String? = nil
}

/// How `run` was asked to run.
public struct RunOptions: Sendable {
    public var server: SocketAddress
    public var token: String
    public var request: TestRequest
    public var json = false
    public var connectTimeout: Double = 5
    /// udp_bw, udp_pps: search for the highest offered rate with loss under 1 % (`--rate-search`), starting
    /// at `request.rate`, within the request's warm-up plus duration.
    public var rateSearch = false
    /// The host's lease file, renewed while the client runs (`--lease`).
    public var lease: String? = nil
    /// The test crosses a user-space tunnel whose counts are kept in this file on this host
    /// (`--tunnel-stats`): the result gets `tunnel` for both sides and their `cpu.SIDE.tunnel_cpu_s`.
    public var tunnelStats: String? = nil
    /// A group step (`--servers A,B,…`): one tcp_bw test against every server at once, all flows
    /// started together and measured over one window (`GroupBandwidthTest`); `server` is the first.
    public var peers: [SocketAddress] = []
    /// Each peer's run key, in the order of `peers` (`--token-stdin` reads one line per server).
    public var peerTokens: [String] = []
    /// Where each peer's data connections go (`--via`): a relay in front of it (a `through`
    /// group's middle); empty: straight to the peer.
    public var dataAddresses: [SocketAddress] = []
    /// A pooled group step (`--flows N --send FLOW=ADDR:PORT,…`, `PooledGroupStep`): `flows` data
    /// connections in all, each to any of the servers (a balancer of the user's own picks, or other
    /// clients send some: `cloudbench-agent send`); this process opens `ownFlows`. The pool id,
    /// which every data connection presents, is the line after the run keys on standard input.
    public var flows: Int = 0
    public var ownFlows: [PoolFlow] = []
    public var pool: String? = nil
}

/// One data connection of a pooled group step: its number and where it goes (a server, a relay's
/// port or a balancer).
public struct PoolFlow: Sendable, Equatable {
    public var flow: Int
    public var to: SocketAddress
    public init(flow: Int, to: SocketAddress) {
        self.flow = flow
        self.to = to
    }

    public static func == (a: PoolFlow, b: PoolFlow) -> Bool { a.flow == b.flow && a.to.description == b.to.description }

    /// `FLOW=ADDR:PORT,…`: 1 to 64 flows, each below `flows` and given once.
    static func parseList(_ flag: String, _ text: String, flows: Int) throws -> [PoolFlow] {
        let items = text.split(separator: ",", omittingEmptySubsequences: false)
        guard !items.isEmpty, items.count <= AgentLimits.groupFlows.upperBound else {
            throw AgentError.usage("\(flag) takes 1 to \(AgentLimits.groupFlows.upperBound) FLOW=ADDR:PORT, comma-separated")
        }
        var out: [PoolFlow] = []
        for item in items {
            let parts = item.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, let flow = Int(parts[0]), (0..<flows).contains(flow) else {
                throw AgentError.usage("\(flag): '\(item)' is not FLOW=ADDR:PORT with FLOW from 0 to \(flows - 1)")
            }
            guard !out.contains(where: { $0.flow == flow }) else { throw AgentError.usage("\(flag): flow \(flow) is given twice") }
            out.append(PoolFlow(flow: flow, to: try SocketAddress(parsing: String(parts[1]))))
        }
        return out
    }

    static func wire(_ flows: [(flow: Int, to: String)]) -> String { flows.map { "\($0.flow)=\($0.to)" }.joined(separator: ",") }

    /// The pool id from standard input: 32 lower-case hex digits (`TestKey.randomID`).
    static func poolID(_ line: String?) throws -> String {
        guard let line, TestKey.isRandomID(line) else {
            throw AgentError.usage("a pooled step needs its pool id, 32 hex digits, on standard input after the run keys")
        }
        return line
    }
}

/// One invocation of the agent, parsed from the command line.
public enum Invocation: Sendable {
    case serve(ServeOptions)
    case run(RunOptions)
    case conf(json: Bool)
    case version
    case help

    public static let usage = """
    usage: cloudbench-agent serve --listen ADDR:PORT --token TOKEN --deadline SECONDS [--lease FILE] [--tunnel-stats FILE]
           cloudbench-agent run --server ADDR:PORT --token TOKEN --test tcp_bw|tcp_lat|tcp_crr|udp_bw|udp_pps|http
                            [--duration S] [--warmup S] [--streams N] [--message-size BYTES] [--reverse | --bidir]
                            [--interval S] [--rate BYTES_PER_S | PACKETS_PER_S (udp_pps)] [--rate-search] [--size BYTES] [--count N] [--json] [--lease FILE]
                            [--tunnel-stats FILE]
           cloudbench-agent run --servers ADDR:PORT,ADDR:PORT,… [--via ADDR:PORT,… | --flows N --send FLOW=ADDR:PORT,…] --token-stdin --test tcp_bw [--reverse] …
                            (a group step: every server at once, one run key per server on standard input; with --flows,
                            N connections each taken by any server, the pool id on the line after the keys)
           cloudbench-agent send --send FLOW=ADDR:PORT,… --deadline SECONDS [--message-size BYTES] [--lease FILE]
                            (another client's flows of a pooled step; the pool id on standard input)
           cloudbench-agent relay --listen ADDR --routes PORT=ADDR:PORT,… --deadline SECONDS [--allow ADDR,…] [--lease FILE]
           cloudbench-agent conf [--json]
           cloudbench-agent --version
    The token may come from CLOUDBENCH_AGENT_TOKEN, or with --token-stdin from the first line of
    standard input, instead of --token.
    """

    /// Parses `arguments` (without the program name); throws `.usage` naming the bad flag.
    public static func parse(_ arguments: [String], environment token: String? = envToken(),
                             standardInput: () -> String? = tokenFromStandardInput) throws -> Invocation {
        guard let verb = arguments.first else { throw AgentError.usage("missing command: serve, run, conf or --version") }
        var rest = Array(arguments.dropFirst())
        var flags: [String: String] = [:]
        var switches: Set<String> = []
        let valueFlags: Set<String>
        let switchFlags: Set<String>
        switch verb {
        case "--version", "version": return .version
        case "--help", "-h", "help": return .help
        case "serve":
            valueFlags = ["--listen", "--token", "--deadline", "--lease", "--tunnel-stats"]; switchFlags = ["--token-stdin"]
        case "run":
            valueFlags = ["--server", "--servers", "--via", "--send", "--flows", "--token", "--test", "--duration", "--warmup", "--streams", "--message-size",
                          "--interval", "--rate", "--size", "--count", "--connect-timeout", "--lease", "--tunnel-stats"]
            switchFlags = ["--reverse", "--bidir", "--json", "--token-stdin", "--rate-search"]
        case "conf":
            valueFlags = []; switchFlags = ["--json"]
        default:
            throw AgentError.usage("unknown command '\(verb)'; expected serve, run, conf or --version")
        }
        while !rest.isEmpty {
            var flag = rest.removeFirst()
            var inlineValue: String?
            if let eq = flag.firstIndex(of: "="), flag.hasPrefix("--") {
                inlineValue = String(flag[flag.index(after: eq)...])
                flag = String(flag[..<eq])
            }
            if switchFlags.contains(flag) {
                switches.insert(flag)
            } else if valueFlags.contains(flag) {
                if let inlineValue { flags[flag] = inlineValue; continue }
                guard !rest.isEmpty else { throw AgentError.usage("\(flag) needs a value") }
                flags[flag] = rest.removeFirst()
            } else {
                throw AgentError.usage("unknown option '\(flag)' for \(verb)")
            }
        }
        func seconds(_ flag: String, in range: ClosedRange<Double>? = nil) throws -> Double? {
            guard let v = flags[flag] else { return nil }
            var text = Substring(v)
            if text.hasSuffix("s") { text = text.dropLast() }
            guard let d = Double(text), d.isFinite else { throw AgentError.usage("\(flag) '\(v)' is not a number of seconds") }
            if let range, !range.contains(d) {
                throw AgentError.usage("\(flag) must be from \(AgentLimits.describe(range)) seconds, not '\(v)'")
            }
            return d
        }
        func integer(_ flag: String) throws -> Int? {
            guard let v = flags[flag] else { return nil }
            guard let i = Int(v) else { throw AgentError.usage("\(flag) '\(v)' is not a whole number") }
            return i
        }
        func theToken() throws -> String {
            if switches.contains("--token-stdin") && flags["--token"] != nil {
                throw AgentError.usage("--token and --token-stdin exclude each other")
            }
            let given = switches.contains("--token-stdin") ? standardInput() : flags["--token"] ?? token
            guard let t = given, !t.isEmpty else {
                if switches.contains("--token-stdin") { throw AgentError.usage("--token-stdin: no token on standard input") }
                throw AgentError.usage("missing --token (or CLOUDBENCH_AGENT_TOKEN)")
            }
            return try checked(t)
        }
        func checked(_ t: String) throws -> String {
            guard t.utf8.count <= 512, !t.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7f }) else {
                throw AgentError.usage("the token must be at most 512 bytes without spaces or control characters")
            }
            return t
        }
        switch verb {
        case "serve":
            guard let listen = flags["--listen"] else { throw AgentError.usage("missing --listen ADDR:PORT") }
            guard let deadline = try seconds("--deadline", in: AgentLimits.deadline) else {
                throw AgentError.usage("missing --deadline SECONDS")
            }
            for flag in ["--lease", "--tunnel-stats"] {
                if let file = flags[flag], file.isEmpty || file.utf8.count > 4096 {
                    throw AgentError.usage("\(flag) needs a file name of at most 4096 bytes")
                }
            }
            return .serve(ServeOptions(listen: try SocketAddress(parsing: listen), token: try theToken(), deadline: deadline,
                                       lease: flags["--lease"], tunnelStats: flags["--tunnel-stats"]))
        case "run":
            var peers: [SocketAddress] = []
            if let list = flags["--servers"] {
                if flags["--server"] != nil { throw AgentError.usage("--server and --servers exclude each other") }
                peers = try addressList("--servers", list)
                if flags["--token"] != nil || !switches.contains("--token-stdin") {
                    throw AgentError.usage("--servers needs --token-stdin: one run key per server, a line each")
                }
            }
            let server: SocketAddress
            if let first = peers.first { server = first } else {
                guard let text = flags["--server"] else { throw AgentError.usage("missing --server ADDR:PORT") }
                server = try SocketAddress(parsing: text)
            }
            guard let testName = flags["--test"] else { throw AgentError.usage("missing --test tcp_bw|tcp_lat|tcp_crr|udp_bw|udp_pps|http") }
            guard let test = TestKind(rawValue: testName) else {
                throw AgentError.usage("unknown test '\(testName)'; expected tcp_bw, tcp_lat, tcp_crr, udp_bw, udp_pps or http")
            }
            var request = TestRequest(test: test)
            if let v = try seconds("--duration") { request.duration = v }
            if let v = try seconds("--warmup") { request.warmup = v }
            if let v = try integer("--streams") { request.streams = v }
            if let v = try integer("--message-size") { request.messageSize = v }
            if let v = try seconds("--interval") { request.interval = v }
            if let v = flags["--rate"] {
                guard let d = Double(v), d.isFinite else {
                    throw AgentError.usage("--rate '\(v)' is not a number of \(test == .udpPackets ? "datagrams" : "bytes") per second")
                }
                request.rate = d
            }
            if let v = try integer("--size") { request.size = v }
            if let v = try integer("--count") { request.count = v }
            request.reverse = switches.contains("--reverse")
            request.bidirectional = switches.contains("--bidir")
            if request.interval > request.duration && flags["--interval"] == nil { request.interval = request.duration }
            try request.validate()
            var options = RunOptions(server: server, token: try theToken(), request: request)
            if !peers.isEmpty {
                guard test == .tcpBandwidth, !request.bidirectional else { throw AgentError.usage("--servers runs tcp_bw in one direction only") }
                options.peers = peers
                options.peerTokens = [options.token]
                for i in 1..<peers.count {
                    guard let t = standardInput(), !t.isEmpty else {
                        throw AgentError.usage("--servers: \(peers.count) servers and only \(i) run keys on standard input")
                    }
                    options.peerTokens.append(try checked(t))
                }
                if let via = flags["--via"] {
                    options.dataAddresses = try addressList("--via", via)
                    guard options.dataAddresses.count == peers.count else {
                        throw AgentError.usage("--via gives \(options.dataAddresses.count) addresses for \(peers.count) servers; give one per server")
                    }
                }
                if let flowsText = flags["--flows"] {
                    guard flags["--via"] == nil, !request.reverse else { throw AgentError.usage("--flows excludes --via and --reverse") }
                    guard let flows = Int(flowsText), AgentLimits.groupFlows.contains(flows) else {
                        throw AgentError.usage("--flows must be from \(AgentLimits.describe(AgentLimits.groupFlows))")
                    }
                    guard let send = flags["--send"] else { throw AgentError.usage("--flows needs --send FLOW=ADDR:PORT,…: the flows this host opens") }
                    guard request.streams == 1 else { throw AgentError.usage("--flows: each flow is one connection; drop --streams") }
                    options.flows = flows
                    options.ownFlows = try PoolFlow.parseList("--send", send, flows: flows)
                    options.pool = try PoolFlow.poolID(standardInput())
                } else if flags["--send"] != nil {
                    throw AgentError.usage("--send is for --flows")
                }
            } else if flags["--via"] != nil || flags["--send"] != nil || flags["--flows"] != nil {
                throw AgentError.usage("--via, --flows and --send are for --servers")
            }
            options.json = switches.contains("--json")
            options.rateSearch = switches.contains("--rate-search")
            if options.rateSearch && !test.isUDP { throw AgentError.usage("--rate-search is for udp_bw and udp_pps only") }
            if let v = try seconds("--connect-timeout", in: AgentLimits.connectTimeout) { options.connectTimeout = v }
            if let lease = flags["--lease"] {
                guard !lease.isEmpty, lease.utf8.count <= 4096 else { throw AgentError.usage("--lease needs a file name of at most 4096 bytes") }
                options.lease = lease
            }
            if let file = flags["--tunnel-stats"] {
                guard !file.isEmpty, file.utf8.count <= 4096 else { throw AgentError.usage("--tunnel-stats needs a file name of at most 4096 bytes") }
                options.tunnelStats = file
            }
            return .run(options)
        default:
            return .conf(json: switches.contains("--json"))
        }
    }

    /// At most this many servers in one group step (`--servers`).
    public static let maxPeers = 64

    /// `A:P,B:P,…`: 1 to `maxPeers` addresses.
    static func addressList(_ flag: String, _ text: String) throws -> [SocketAddress] {
        let items = text.split(separator: ",", omittingEmptySubsequences: false)
        guard !items.isEmpty, items.count <= maxPeers else { throw AgentError.usage("\(flag) takes 1 to \(maxPeers) ADDR:PORT, comma-separated") }
        return try items.map { try SocketAddress(parsing: String($0)) }
    }

    /// The first line of standard input (at most 600 bytes, read byte by byte so that nothing
    /// after it is taken): how cloudbench hands over the run key, out of every process list.
    public static func tokenFromStandardInput() -> String? {
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while line.count < 600 {
            guard let n = try? Posix.read(0, &byte, 1).value, n == 1 else { break }
            if byte == UInt8(ascii: "\n") { break }
            line.append(byte)
        }
        if line.last == UInt8(ascii: "\r") { line.removeLast() }
        return line.isEmpty ? nil : String(decoding: line, as: UTF8.self)
    }

    public static func envToken() -> String? {
        guard let p = getenv("CLOUDBENCH_AGENT_TOKEN") else { return nil }
        return String(cString: p)
    }
}

/// The agent's command line as the orchestrator writes it: built from the same `TestRequest`
/// that `Invocation.parse` reads back, so neither side formats or parses the other's flags by hand.
/// The token is never an argument: `--token-stdin` reads it from standard input.
public enum AgentCommandLine {
    /// `serve --listen ADDR:PORT --deadline S [--lease FILE] [--token-stdin]`; without
    /// `--token-stdin`, the token comes from `CLOUDBENCH_AGENT_TOKEN`.
    public static func serve(listen: String, deadline: Double, lease: String? = nil, tokenOnStandardInput: Bool = false,
                             tunnelStats: String? = nil) -> [String] {
        ["serve", "--listen", listen, "--deadline", number(deadline)] + (lease.map { ["--lease", $0] } ?? [])
            + (tokenOnStandardInput ? ["--token-stdin"] : []) + (tunnelStats.map { ["--tunnel-stats", $0] } ?? [])
    }

    /// `run --server ADDR:PORT --test T …`: a flag for each field of `request` that differs from
    /// the test's defaults, so `Invocation.parse` gives back `request`.
    public static func run(server: String, request: TestRequest, json: Bool = true,
                           tokenOnStandardInput: Bool = false, rateSearch: Bool = false, lease: String? = nil,
                           tunnelStats: String? = nil) -> [String] {
        run(target: ["--server", server], request: request, json: json, tokenOnStandardInput: tokenOnStandardInput,
            rateSearch: rateSearch, lease: lease, tunnelStats: tunnelStats)
    }

    /// `run TARGET …`, where the target is `--server ADDR:PORT` or a group's `--servers A,B,…`.
    static func run(target: [String], request: TestRequest, json: Bool, tokenOnStandardInput: Bool, rateSearch: Bool,
                    lease: String?, tunnelStats: String?) -> [String] {
        let d = TestRequest(test: request.test)
        var args = ["run"] + target + (tokenOnStandardInput ? ["--token-stdin"] : []) + ["--test", request.test.rawValue]
        if request.duration != d.duration { args += ["--duration", number(request.duration)] }
        if request.warmup != d.warmup { args += ["--warmup", number(request.warmup)] }
        if request.streams != d.streams { args += ["--streams", "\(request.streams)"] }
        if request.messageSize != d.messageSize { args += ["--message-size", "\(request.messageSize)"] }
        if request.interval != d.interval && request.interval != min(d.interval, request.duration) {
            args += ["--interval", number(request.interval)]
        }
        if request.rate != d.rate { args += ["--rate", number(request.rate)] }
        if request.size != d.size { args += ["--size", "\(request.size)"] }
        if request.count != d.count { args += ["--count", "\(request.count)"] }
        if request.reverse { args.append("--reverse") }
        if request.bidirectional { args.append("--bidir") }
        if rateSearch { args.append("--rate-search") }
        if json { args.append("--json") }
        if let lease { args += ["--lease", lease] }
        if let tunnelStats { args += ["--tunnel-stats", tunnelStats] }
        return args
    }

    /// `run --servers A,B,… [--via X,Y,… | --flows N --send FLOW=ADDR:PORT,…] --token-stdin --test tcp_bw …`:
    /// a group step against every server at once; standard input carries one run key per server,
    /// a line each, and for a pooled step (`pool`: the flows in all and this host's) the pool id.
    public static func group(servers: [String], via: [String]? = nil, pool: (flows: Int, own: [(flow: Int, to: String)])? = nil,
                             request: TestRequest, lease: String? = nil) -> [String] {
        run(target: ["--servers", servers.joined(separator: ",")], request: request, json: true, tokenOnStandardInput: true,
            rateSearch: false, lease: lease, tunnelStats: nil) + (via.map { ["--via", $0.joined(separator: ",")] } ?? [])
            + (pool.map { ["--flows", "\($0.flows)", "--send", PoolFlow.wire($0.own)] } ?? [])
    }

    /// `send --send FLOW=ADDR:PORT,… --deadline S [--message-size B]`: another client's flows of a
    /// pooled group step (`PoolSender`); standard input carries the pool id.
    public static func send(_ flows: [(flow: Int, to: String)], deadline: Double, messageSize: Int = 0, lease: String? = nil) -> [String] {
        ["send", "--send", PoolFlow.wire(flows), "--deadline", number(deadline)] + (messageSize > 0 ? ["--message-size", "\(messageSize)"] : [])
            + (lease.map { ["--lease", $0] } ?? [])
    }

    /// `relay --listen ADDR --routes PORT=ADDR:PORT,… --deadline S [--lease FILE]`: the agent's TCP
    /// relay on a `through` group's middle host (`Relay`).
    public static func relay(listen: String, routes: [(port: Int, to: String)], deadline: Double, allow: [String] = [],
                             lease: String? = nil) -> [String] {
        ["relay", "--listen", listen, "--routes", routes.map { "\($0.port)=\($0.to)" }.joined(separator: ","),
         "--deadline", number(deadline)] + (allow.isEmpty ? [] : ["--allow", allow.joined(separator: ",")]) + (lease.map { ["--lease", $0] } ?? [])
    }

    /// `10` for whole numbers, `0.5` otherwise: what `Double(_:)` reads back exactly.
    static func number(_ d: Double) -> String {
        d == d.rounded() && abs(d) < 1e15 ? "\(Int(d))" : "\(d)"
    }
}
