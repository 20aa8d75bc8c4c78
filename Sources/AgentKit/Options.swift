#if canImport(Glibc)
import Glibc
#endif
import AgentLimits

/// How `serve` was asked to run.
public struct ServeOptions: Sendable {
    public var listen: SocketAddress
    public var token: String
    public var deadline: Double
}

/// How `run` was asked to run.
public struct RunOptions: Sendable {
    public var server: SocketAddress
    public var token: String
    public var request: TestRequest
    public var json = false
    public var connectTimeout: Double = 5
}

/// One invocation of the agent, parsed from the command line.
public enum Invocation: Sendable {
    case serve(ServeOptions)
    case run(RunOptions)
    case conf(json: Bool)
    case version
    case help

    public static let usage = """
    usage: cloudbench-agent serve --listen ADDR:PORT --token TOKEN --deadline SECONDS
           cloudbench-agent run --server ADDR:PORT --token TOKEN --test tcp_bw|tcp_lat|udp_bw|http
                            [--duration S] [--warmup S] [--streams N] [--message-size BYTES] [--reverse | --bidir]
                            [--interval S] [--rate BYTES_PER_S] [--size BYTES] [--count N] [--json]
           cloudbench-agent conf [--json]
           cloudbench-agent --version
    The token may come from CLOUDBENCH_AGENT_TOKEN instead of --token.
    """

    /// Parses `arguments` (without the program name); throws `.usage` naming the bad flag.
    public static func parse(_ arguments: [String], environment token: String? = envToken()) throws -> Invocation {
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
            valueFlags = ["--listen", "--token", "--deadline"]; switchFlags = []
        case "run":
            valueFlags = ["--server", "--token", "--test", "--duration", "--warmup", "--streams", "--message-size",
                          "--interval", "--rate", "--size", "--count", "--connect-timeout"]
            switchFlags = ["--reverse", "--bidir", "--json"]
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
            guard let t = flags["--token"] ?? token, !t.isEmpty else {
                throw AgentError.usage("missing --token (or CLOUDBENCH_AGENT_TOKEN)")
            }
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
            return .serve(ServeOptions(listen: try SocketAddress(parsing: listen), token: try theToken(), deadline: deadline))
        case "run":
            guard let server = flags["--server"] else { throw AgentError.usage("missing --server ADDR:PORT") }
            guard let testName = flags["--test"] else { throw AgentError.usage("missing --test tcp_bw|tcp_lat|udp_bw|http") }
            guard let test = TestKind(rawValue: testName) else {
                throw AgentError.usage("unknown test '\(testName)'; expected tcp_bw, tcp_lat, udp_bw or http")
            }
            var request = TestRequest(test: test)
            if let v = try seconds("--duration") { request.duration = v }
            if let v = try seconds("--warmup") { request.warmup = v }
            if let v = try integer("--streams") { request.streams = v }
            if let v = try integer("--message-size") { request.messageSize = v }
            if let v = try seconds("--interval") { request.interval = v }
            if let v = flags["--rate"] {
                guard let d = Double(v), d.isFinite else { throw AgentError.usage("--rate '\(v)' is not a number of bytes per second") }
                request.rate = d
            }
            if let v = try integer("--size") { request.size = v }
            if let v = try integer("--count") { request.count = v }
            request.reverse = switches.contains("--reverse")
            request.bidirectional = switches.contains("--bidir")
            if request.interval > request.duration && flags["--interval"] == nil { request.interval = request.duration }
            try request.validate()
            var options = RunOptions(server: try SocketAddress(parsing: server), token: try theToken(), request: request)
            options.json = switches.contains("--json")
            if let v = try seconds("--connect-timeout", in: AgentLimits.connectTimeout) { options.connectTimeout = v }
            return .run(options)
        default:
            return .conf(json: switches.contains("--json"))
        }
    }

    public static func envToken() -> String? {
        guard let p = getenv("CLOUDBENCH_AGENT_TOKEN") else { return nil }
        return String(cString: p)
    }
}
