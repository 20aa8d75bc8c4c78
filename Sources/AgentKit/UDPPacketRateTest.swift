/// udp_pps: small datagrams (64 bytes of payload by default) at an offered packet rate; the
/// packets per second received, the loss and (as for every UDP test) both hosts' CPU.
///
/// A packet-rate test is `udp_bw` whose offer is counted in datagrams: the same sockets, pacing,
/// sequence numbers and loss count (`UDPBandwidthTest`), with the rates restated per datagram.
/// Every datagram has the same size, so the window's datagrams are its bytes over that size.
public enum UDPPacketRateTest {
    static func run(_ c: ClientSession) throws -> JSON {
        let result = try UDPBandwidthTest.run(c)
        guard case .object(var fields) = result else { return result }
        let size = Double(c.request.effectiveMessageSize)
        func perDatagram(_ bytesKey: String) -> JSON {
            UDPRateSearch.number(result, bytesKey).map { .double($0 / size) } ?? .null
        }
        let at = (fields.firstIndex { $0.0 == "receiver_bytes_per_second" } ?? fields.count - 1) + 1
        fields.insert(contentsOf: [
            ("receiver_packets_per_second", perDatagram("receiver_bytes_per_second")),
            ("sender_packets_per_second", perDatagram("sender_bytes_per_second")),
            ("target_packets_per_second", .double(c.request.rate)),
        ], at: at)
        return .object(fields)
    }
}
