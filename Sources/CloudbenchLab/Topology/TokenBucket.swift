import Foundation

/// The `tbf` parameters that make a link carry a given TCP goodput.
///
/// The rate counts whole Ethernet frames (`Goodput.wireBytesPerSecond`). The burst is 10 ms of
/// traffic but at least ten frames, so a 590 KB/s link still passes full frames. tbf refills its
/// bucket from a timer: when the timer or the softirq runs late (a busy or preempted virtual
/// machine: 10-18 % steal on this project's test machine), the tokens past a full bucket are
/// lost and the link runs slow. With a 4 ms bucket an idle 2-vCPU VM measured 10 MB/s links at
/// 2.5 % under and CI failed at up to 15 % under; with 10 ms they stay within 0.3 % (docs/lab.md). A
/// burst is sent once at line rate, so it adds about 10 ms / test duration to a measurement
/// without a warm-up (0.33 % over 3 s; none after compare's warm-up). The queue holds 25 ms or 64 KiB,
/// whichever is more: enough for TCP to keep the link busy, small enough to keep latency tests honest.
///
/// A link with a burst credit (`LabProfile.BurstCredit`) keeps `rate` as its baseline, takes the
/// credit as its bucket (`burst`) and adds `peakrate`: tbf sends at the peak while the bucket
/// lasts. The peak's own bucket (`mtu`) is 4 ms at the peak but at least ten frames: with one
/// frame, as tc's examples have it, this kernel's tbf runs 15-20 % under the peak (a timer per
/// frame); with 4 ms it runs at the peak (docs/lab.md). The queue is sized for the peak.
public struct TokenBucket: Hashable, Sendable {
    public let rateBytesPerSecond: Int
    public let burstBytes: Int
    public let limitBytes: Int
    public let peakBytesPerSecond: Int?
    public let peakBucketBytes: Int?

    public init(goodput: Goodput, burst: LabProfile.BurstCredit? = nil) {
        let rate = goodput.wireBytesPerSecond
        rateBytesPerSecond = rate
        guard let burst else {
            burstBytes = max(10 * 1514, rate / 100)
            limitBytes = max(64 * 1024, rate / 40) + burstBytes
            peakBytesPerSecond = nil
            peakBucketBytes = nil
            return
        }
        let peak = burst.peak.wireBytesPerSecond
        burstBytes = burst.creditBytes
        peakBytesPerSecond = peak
        peakBucketBytes = max(10 * 1514, peak / 250)
        limitBytes = max(64 * 1024, peak / 40) + max(10 * 1514, peak / 250)
    }

    /// The arguments after `tc qdisc replace dev DEV root`.
    public var tcArguments: [String] {
        var args = ["tbf", "rate", "\(rateBytesPerSecond * 8)bit", "burst", "\(burstBytes)"]
        if let peakBytesPerSecond, let peakBucketBytes {
            args += ["peakrate", "\(peakBytesPerSecond * 8)bit", "mtu", "\(peakBucketBytes)"]
        }
        return args + ["limit", "\(limitBytes)"]
    }
}
