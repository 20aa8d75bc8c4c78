import AgentKit
import Foundation
import NetNS

/// A program that measures TCP goodput between two namespaces: the ground truth for a lab link.
public protocol GoodputTool: Sendable {
    /// How reports name it, e.g. `iperf3`.
    var name: String { get }
    /// Application bytes per second that `client` delivered to a server listening at `serverAddress` in `server`.
    func measure(server: Namespace, serverAddress: String, client: Namespace, seconds: Double) throws -> Double
    /// The seconds after the first byte that `measure` counts, for a link whose rate changes (a burst credit).
    func window(seconds: Double) -> (from: Double, to: Double)
}

/// iperf3 (Debian package): `iperf3 -s -1` in the server, `iperf3 -c … -J` in the client.
public struct IPerf3Tool: GoodputTool {
    public let name = "iperf3"
    public var port: UInt16

    public init(port: UInt16 = 5201) { self.port = port }

    /// iperf3 counts its whole run, `-t` rounded up to whole seconds.
    public func window(seconds: Double) -> (from: Double, to: Double) { (0, seconds.rounded(.up)) }

    public func measure(server: Namespace, serverAddress: String, client: Namespace, seconds: Double) throws -> Double {
        try Prerequisites.check([("iperf3", "iperf3")])
        let iperf3 = try ProcessRunner.resolve("iperf3")
        let listener = try server.spawn([iperf3, "-s", "-1", "-B", serverAddress, "-p", "\(port)"])
        defer { stop(listener) }
        let deadline = seconds + 15
        let started = Date()
        // The server needs a moment to listen; a refused connection is retried, anything else is not.
        while true {
            let out = try client.output(of: [iperf3, "-c", serverAddress, "-p", "\(port)", "-J",
                                                        "-t", String(format: "%.0f", seconds.rounded(.up)),
                                                        "--connect-timeout", "2000"],
                                           deadline: deadline)
            // iperf3 3.12 with -J exits 0 even when it could not connect; its JSON says why.
            let jsonError = Self.error(json: out.stdout)
            if out.status == 0, jsonError == nil { return try Self.receivedBytesPerSecond(json: out.stdout) }
            let said = jsonError ?? out.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
            if said.contains("refused"), Date().timeIntervalSince(started) < 5, listener.isRunning {
                usleep(100_000)
                continue
            }
            throw LabError("iperf3 from \(client.name) to \(serverAddress) failed\(out.timedOut ? " (timed out)" : ""): \(said)")
        }
    }

    /// `end.sum_received.bytes / end.sum_received.seconds` of iperf3's JSON report.
    static func receivedBytesPerSecond(json: String) throws -> Double {
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
              let end = object["end"] as? [String: Any],
              let sum = end["sum_received"] as? [String: Any],
              let bytes = (sum["bytes"] as? NSNumber)?.doubleValue,
              let secs = (sum["seconds"] as? NSNumber)?.doubleValue, secs > 0 else {
            throw LabError("iperf3 printed no end.sum_received in its JSON report")
        }
        return bytes / secs
    }

    static func error(json: String) -> String? {
        (try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])?["error"] as? String
    }
}

/// cloudbench's own agent: `serve` in the server namespace, `run --test tcp_bw --json` in the client.
public struct AgentGoodputTool: GoodputTool {
    public let name = "cloudbench-agent"
    public var binary: String
    public var port: UInt16

    public init(binary: String, port: UInt16 = 5301) {
        self.binary = binary
        self.port = port
    }

    /// The agent counts after its default 2 s warm-up.
    public func window(seconds: Double) -> (from: Double, to: Double) { (2, 2 + seconds) }

    public func measure(server: Namespace, serverAddress: String, client: Namespace, seconds: Double) throws -> Double {
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw LabError.usage("agent binary \(binary) does not exist or is not executable; build it with `swift build --product cloudbench-agent`")
        }
        // A fresh random token per measurement: the agent refuses strangers, and it never reaches output.
        let token = (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
        let endpoint = "\(serverAddress):\(port)"
        let lifetime = Int(seconds.rounded(.up)) + 30
        // The agent's own command-line builder (AgentKit); the token travels in the environment.
        let environment = ProcessInfo.processInfo.environment.merging(["CLOUDBENCH_AGENT_TOKEN": token]) { $1 }
        let listener = try server.spawn([binary] + AgentCommandLine.serve(listen: endpoint, deadline: Double(lifetime)),
                                        environment: environment)
        defer { stop(listener) }
        let started = Date()
        while true {
            var request = TestRequest(test: .tcpBandwidth)
            request.duration = seconds
            request.interval = min(request.interval, seconds)
            let out = try client.output(of: [binary] + AgentCommandLine.run(server: endpoint, request: request, json: true),
                                        environment: environment, deadline: seconds + 20)
            if out.status == 0 { return try Self.receiverBytesPerSecond(json: out.stdout) }
            let said = out.stderr.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: token, with: "<token>")
            if said.lowercased().contains("refused"), Date().timeIntervalSince(started) < 5, listener.isRunning {
                usleep(100_000)
                continue
            }
            throw LabError("cloudbench-agent from \(client.name) to \(endpoint) failed\(out.timedOut ? " (timed out)" : ""): \(said)")
        }
    }

    /// The top-level `receiver_bytes_per_second` of the agent's JSON.
    static func receiverBytesPerSecond(json: String) throws -> Double {
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
              let value = (object["receiver_bytes_per_second"] as? NSNumber)?.doubleValue, value > 0 else {
            throw LabError("cloudbench-agent printed no receiver_bytes_per_second in its JSON")
        }
        return value
    }
}

/// Ends a listener this measurement started, with what it started.
private func stop(_ process: ChildProcess) {
    process.stop(grace: 2)
}
