/// A burst found in one throughput test: the rate while credit lasted, the rate after, and how long.
///
/// Recorded as `detail.burst` of a `tcp_bw` record (`burst_bytes_per_second`,
/// `sustained_bytes_per_second`, `burst_seconds`); the record's headline `value` is then the
/// sustained rate, the one the instance can hold.
public struct Burst: Hashable, Sendable {
    public var burstBytesPerSecond: Double
    public var sustainedBytesPerSecond: Double
    /// Seconds of the measured window (after the warm-up) spent at the burst rate.
    public var burstSeconds: Double

    public init(burstBytesPerSecond: Double, sustainedBytesPerSecond: Double, burstSeconds: Double) {
        self.burstBytesPerSecond = burstBytesPerSecond
        self.sustainedBytesPerSecond = sustainedBytesPerSecond
        self.burstSeconds = burstSeconds
    }

    /// The `detail.burst` object.
    public var json: JSONValue {
        .object(["burst_bytes_per_second": .number(burstBytesPerSecond.rounded()),
                 "sustained_bytes_per_second": .number(sustainedBytesPerSecond.rounded()),
                 "burst_seconds": .number((burstSeconds * 1000).rounded() / 1000)])
    }

    /// Reads `detail.burst` back; nil when absent or malformed.
    public init?(json: JSONValue?) {
        guard let b = json?["burst_bytes_per_second"]?.double, let s = json?["sustained_bytes_per_second"]?.double,
              let t = json?["burst_seconds"]?.double, b.isFinite, s.isFinite, t.isFinite, b > 0, s > 0, t >= 0 else { return nil }
        self.init(burstBytesPerSecond: b, sustainedBytesPerSecond: s, burstSeconds: t)
    }
}

/// The per-interval throughput of a `tcp_bw` measurement, as the agent records it
/// (`intervals: [{start_s, end_s, bytes_per_second}]`, `interval_s`).
public struct ThroughputTimeline: Hashable, Sendable {
    public var intervalSeconds: Double
    /// Bytes per second of each whole interval, in order.
    public var rates: [Double]

    public init(intervalSeconds: Double, rates: [Double]) {
        self.intervalSeconds = intervalSeconds
        self.rates = rates
    }

    /// The agent's intervals in `detail`; a last interval shorter than the others is left out,
    /// so every rate stands for the same length of time. At most 100 000 intervals are read.
    public init?(detail: JSONValue?) {
        guard let step = detail?["interval_s"]?.double, step > 0, step.isFinite,
              case .array(let items)? = detail?["intervals"] else { return nil }
        var rates: [Double] = []
        for item in items.prefix(100_000) {
            guard let start = item["start_s"]?.double, let end = item["end_s"]?.double,
                  let rate = item["bytes_per_second"]?.double, rate.isFinite, rate >= 0 else { return nil }
            if end - start < step * 0.99 { break }
            rates.append(rate)
        }
        self.init(intervalSeconds: step, rates: rates)
    }

    /// The burst in this timeline, if any.
    public func burst(_ detector: BurstDetector = BurstDetector()) -> Burst? {
        detector.detect(rates: rates, intervalSeconds: intervalSeconds)
    }
}

extension ResultRecord {
    /// Looks for a burst in this `tcp_bw` record's intervals; when there is one, records it as
    /// `detail.burst` and makes the headline `value` the sustained rate. The agent's own
    /// `receiver_bytes_per_second` (the whole window's mean) stays in `detail`.
    public mutating func recordBurst(_ detector: BurstDetector = BurstDetector()) {
        guard status == .ok, case .object(var fields)? = detail,
              let found = ThroughputTimeline(detail: detail)?.burst(detector) else { return }
        // The value is the recorded (rounded) sustained rate, so the record agrees with itself.
        let burst = Burst(json: found.json) ?? found
        fields["burst"] = burst.json
        detail = .object(fields)
        switch unit {
        case "MB/s": value = burst.sustainedBytesPerSecond / 1e6
        case "Mbit/s": value = burst.sustainedBytesPerSecond * 8 / 1e6
        default: break
        }
    }
}
