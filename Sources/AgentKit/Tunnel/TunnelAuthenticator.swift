/// The authenticator on every datagram of the user-space tunnel:
///
///     counter (8 bytes, big-endian) | IP packet | tag (16 bytes)
///
/// where the tag is SipHash-2-4-128 of the counter and the packet under a key for the direction:
/// the first 128 bits of HMAC-SHA256(path key, "cloudbench-agent/1 tunnel from IP:PORT"), made
/// once per tunnel. SipHash takes two light rounds per 8 bytes where HMAC-SHA256 took a 64-round
/// compression per 64 bytes and two more per datagram, which cost more than the rest of the
/// tunnel; so the tag does not bend what the `udp` path measures. The path key is the path
/// instance's run key, handed to the tunnel on its standard input, so a datagram made by anyone
/// else, or by this path instance's other direction, or by an earlier instance, fails; a valid
/// datagram sent again fails the receiver's `ReplayWindow`.
public final class TunnelAuthenticator {
    public static let counterBytes = 8
    public static let tagBytes = 16
    /// Bytes a datagram carries besides its packet.
    public static let overhead = counterBytes + tagBytes

    private let key: SipHash

    /// The key for datagrams sent from `from` (the sender's "IP:PORT") on the path keyed `pathKey`.
    public init(pathKey: String, from: String) {
        let derived = HMAC.sha256(key: Array(pathKey.utf8), message: Array("cloudbench-agent/1 tunnel from \(from)".utf8))
        key = SipHash(key: Array(derived.prefix(16)))
    }

    /// Frames the packet at `datagram + counterBytes` (`length` bytes): writes the counter
    /// before it and the tag after it, and returns the datagram's length. The buffer must have
    /// `tagBytes` of room after the packet.
    public func seal(_ datagram: UnsafeMutableRawPointer, packetLength length: Int, counter: UInt64) -> Int {
        datagram.storeBytes(of: counter.bigEndian, toByteOffset: 0, as: UInt64.self)
        let signed = TunnelAuthenticator.counterBytes + length
        key.tag(datagram, length: signed, into: datagram + signed, tagBytes: TunnelAuthenticator.tagBytes)
        return signed + TunnelAuthenticator.tagBytes
    }

    /// The datagram's counter when its tag is right (compared in constant time), else nil.
    /// `scratch` holds `tagBytes` for the expected tag.
    public func open(_ datagram: UnsafeRawPointer, length: Int, scratch: UnsafeMutableRawPointer) -> UInt64? {
        guard length >= TunnelAuthenticator.overhead else { return nil }
        let signed = length - TunnelAuthenticator.tagBytes
        key.tag(datagram, length: signed, into: scratch, tagBytes: TunnelAuthenticator.tagBytes)
        var diff: UInt8 = 0
        for i in 0..<TunnelAuthenticator.tagBytes {
            diff |= datagram.load(fromByteOffset: signed + i, as: UInt8.self) ^ scratch.load(fromByteOffset: i, as: UInt8.self)
        }
        guard diff == 0 else { return nil }
        return UInt64(bigEndian: datagram.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
    }
}
