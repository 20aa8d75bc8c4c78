import Foundation
import NetNS

/// One emulated cloud instance: a namespace with its own sshd, link and addresses.
public struct LabInstance: Hashable, Sendable, Codable {
    public enum Role: String, Hashable, Sendable, Codable { case server, client }

    /// `<pair>-<role>`, e.g. `azure-a2-server`; also the folder of its files in the state directory.
    public let id: String
    public let pair: String
    public let role: Role
    public let namespace: String
    /// The bridge-side end of its veth in the fabric namespace (Linux caps device names at 15 bytes).
    public let fabricDevice: String
    /// Its host-network address: where SSH goes and where test traffic flows.
    public let address: String
    /// Its address on the lab's external overlay, if the profile has one.
    public let overlayAddress: String?
    /// The emulated TCP goodput of what it sends, bytes per second.
    public let goodputBytesPerSecond: Double
    /// The goodput of what it receives when that differs (a profile's `rate: { up, down }`);
    /// nil: the same as what it sends.
    public var ingressGoodputBytesPerSecond: Double? = nil
    /// The burst credit of its link (`burst:` in the profile): peak goodput and bucket bytes.
    public var burstPeakBytesPerSecond: Double? = nil
    public var burstCreditBytes: Int? = nil
    /// Packets per second it may send (`pps_limit:`): nftables drops the rest, and a stand-in
    /// `ethtool` reports them as ENA's `pps_allowance_exceeded`; nil for no limit.
    public var packetRateLimit: Int? = nil

    public var goodput: Goodput { Goodput(bytesPerSecond: goodputBytesPerSecond) }

    public var burst: LabProfile.BurstCredit? {
        guard let peak = burstPeakBytesPerSecond, let bytes = burstCreditBytes else { return nil }
        return LabProfile.BurstCredit(peak: Goodput(bytesPerSecond: peak), creditBytes: bytes)
    }

    /// The tbf of what it sends (and of both directions when the link is symmetric).
    /// The nftables cap on what it sends out of `eth0`, if the profile gives one.
    public var packetRateCap: PacketRateLimit? {
        packetRateLimit.map { PacketRateLimit(packetsPerSecond: $0, device: "eth0") }
    }

    public var tokenBucket: TokenBucket { TokenBucket(goodput: goodput, burst: burst) }
    /// The tbf of what the bridge delivers to it.
    public var ingressTokenBucket: TokenBucket {
        ingressGoodputBytesPerSecond.map { TokenBucket(goodput: Goodput(bytesPerSecond: $0), burst: burst) } ?? tokenBucket
    }
}
