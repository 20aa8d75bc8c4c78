/// The measurements the agent can run, named as on its command line and in result records.
///
/// Declared once, here, for both sides: the agent parses `--test` into it and the orchestrator
/// plans, records and reports by it.
public enum TestKind: String, Sendable, Hashable, CaseIterable, Codable {
    case tcpBandwidth = "tcp_bw"
    case tcpLatency = "tcp_lat"
    case udpBandwidth = "udp_bw"
    case udpPackets = "udp_pps"
    case tcpConnectRequestResponse = "tcp_crr"
    case http

    /// The UDP tests: datagrams paced at an offered rate (bytes per second for `udp_bw`, packets
    /// per second for `udp_pps`), whose rate may be searched for the highest with loss under 1 %.
    public var isUDP: Bool { self == .udpBandwidth || self == .udpPackets }
}
