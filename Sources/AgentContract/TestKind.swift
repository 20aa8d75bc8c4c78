/// The measurements the agent can run, named as on its command line and in result records.
///
/// Declared once, here, for both sides: the agent parses `--test` into it and the orchestrator
/// plans, records and reports by it.
public enum TestKind: String, Sendable, Hashable, CaseIterable, Codable {
    case tcpBandwidth = "tcp_bw"
    case tcpLatency = "tcp_lat"
    case udpBandwidth = "udp_bw"
    case http
}
