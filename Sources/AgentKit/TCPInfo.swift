/// Fields of Linux `struct tcp_info`, read by offset so that the agent does not depend on
/// the header version it was built against (older kernels return a shorter struct).
public struct TCPInfo: Sendable {
    let raw: [UInt8]

    private func u32(_ offset: Int) -> UInt32? {
        guard raw.count >= offset + 4 else { return nil }
        return UInt32(raw[offset]) | UInt32(raw[offset + 1]) << 8 | UInt32(raw[offset + 2]) << 16 | UInt32(raw[offset + 3]) << 24
    }

    public var sendMSS: Int? { u32(16).map(Int.init) }
    public var pathMTU: Int? { u32(60).map(Int.init) }
    /// Smoothed round-trip time in microseconds.
    public var rttMicroseconds: Int? { u32(68).map(Int.init) }
    public var rttVarianceMicroseconds: Int? { u32(72).map(Int.init) }
    public var congestionWindow: Int? { u32(80).map(Int.init) }
    /// Segments retransmitted over the connection's life (`tcpi_total_retrans`).
    public var totalRetransmits: Int? { u32(100).map(Int.init) }
}
