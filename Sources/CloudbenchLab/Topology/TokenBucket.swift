import Foundation

/// The `tbf` parameters that make a link carry a given TCP goodput.
///
/// The rate counts whole Ethernet frames (`Goodput.wireBytesPerSecond`). The burst is 4 ms of
/// traffic but at least ten frames, so a 590 KB/s link still passes full frames and a 300 MB/s
/// link is not held back by timer granularity; a burst is sent once at line rate, so it adds
/// about 4 ms / test duration to a measurement (0.13 % over 3 s). The queue holds 25 ms or 64 KiB,
/// whichever is more: enough for TCP to keep the link busy, small enough to keep latency tests honest.
public struct TokenBucket: Hashable, Sendable {
    public let rateBytesPerSecond: Int
    public let burstBytes: Int
    public let limitBytes: Int

    public init(goodput: Goodput) {
        let rate = goodput.wireBytesPerSecond
        rateBytesPerSecond = rate
        burstBytes = max(10 * 1514, rate / 250)
        limitBytes = max(64 * 1024, rate / 40) + burstBytes
    }

    /// The arguments after `tc qdisc replace dev DEV root`.
    public var tcArguments: [String] {
        ["tbf", "rate", "\(rateBytesPerSecond * 8)bit", "burst", "\(burstBytes)", "limit", "\(limitBytes)"]
    }
}
