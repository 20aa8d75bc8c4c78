/// The measurements the agent can run.
public enum TestKind: String, Sendable, CaseIterable {
    case tcpBandwidth = "tcp_bw"
    case tcpLatency = "tcp_lat"
    case udpBandwidth = "udp_bw"
    case http = "http"
}
