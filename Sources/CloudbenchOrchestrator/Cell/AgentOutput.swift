import CloudbenchCore
import CloudbenchSSH

/// The headline figure of the agent's JSON for a test, in the unit reports use.
public enum AgentOutput {
    public struct Headline: Equatable, Sendable {
        public var value: Double
        public var unit: String
    }

    public enum Problem: Error, CustomStringConvertible, Equatable {
        case notJSON(String)
        case missing(String)

        public var description: String {
            switch self {
            case .notJSON(let s): return "the agent printed no JSON result: \(RemoteText.sanitised(String(s.prefix(200))))"
            case .missing(let f): return "the agent's result has no '\(f)'"
            }
        }
    }

    public static func parse(_ stdout: String, test: TestKind) throws(Problem) -> (Headline, JSONValue) {
        let text = stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let json = try? JSONValue.parse(text) else { throw .notJSON(text) }
        switch test {
        case .tcpBandwidth, .udpBandwidth:
            guard let bps = json["receiver_bytes_per_second"]?.double else { throw .missing("receiver_bytes_per_second") }
            return (Headline(value: bps / 1e6, unit: "MB/s"), json)
        case .tcpConnectRequestResponse:
            guard let cps = json["connections_per_second"]?.double else { throw .missing("connections_per_second") }
            return (Headline(value: cps, unit: "conn/s"), json)
        case .udpPackets:
            guard let pps = json["receiver_packets_per_second"]?.double else { throw .missing("receiver_packets_per_second") }
            return (Headline(value: pps, unit: "pps"), json)
        case .tcpLatency:
            guard let us = json["latency_us"]?.double else { throw .missing("latency_us") }
            return (Headline(value: us, unit: "us"), json)
        case .http:
            // The median total time of a fetch on a reused connection.
            for key in ["reuse", "reused", "keepalive"] {
                if let ms = json[key]?["total_ms"]?["p50"]?.double { return (Headline(value: ms, unit: "ms"), json) }
                if let us = json[key]?["total_us"]?["p50"]?.double { return (Headline(value: us / 1000, unit: "ms"), json) }
            }
            throw .missing("reuse.total_ms.p50")
        }
    }
}
