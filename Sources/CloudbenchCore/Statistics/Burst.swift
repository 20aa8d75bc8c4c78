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

    /// At most this many intervals are read from one record.
    public static let intervalLimit = 100_000

    /// One entry of `detail.intervals` as the record holds it.
    public struct Interval: Sendable {
        /// `start_s` and `end_s` of the agent's objects; nil when absent (always for a plain number).
        public var start: Double?
        public var end: Double?
        /// Bytes per second for the agent's `{…, bytes_per_second}`; MB/s for a plain number.
        public var rate: Double
        /// True for a plain number (MB/s, intervals one second apart, as older imports wrote them).
        public var isPlainNumber: Bool
    }

    /// The one reader of `detail.intervals`: calls `body` with each entry, in order, at most
    /// `intervalLimit` of them, until `body` returns false. Returns false when there is no
    /// `intervals` array, or when an entry read is neither a number nor an object with a
    /// `bytes_per_second`, or its rate is not finite and at least zero (the series is then unusable).
    /// Without `times`, `start` and `end` are not looked up (nil): for a reader that needs the rates only.
    @discardableResult
    public static func readIntervals(_ detail: JSONValue?, times: Bool = true, _ body: (Interval) -> Bool) -> Bool {
        guard case .array(let items)? = detail?["intervals"] else { return false }
        for item in items.prefix(intervalLimit) {
            let interval: Interval
            switch item {
            case .number(let n):
                interval = Interval(start: nil, end: nil, rate: n, isPlainNumber: true)
            case .object(let fields):
                guard let rate = fields["bytes_per_second"]?.double else { return false }
                interval = Interval(start: times ? fields["start_s"]?.double : nil, end: times ? fields["end_s"]?.double : nil,
                                    rate: rate, isPlainNumber: false)
            default:
                return false
            }
            guard interval.rate.isFinite, interval.rate >= 0 else { return false }
            if !body(interval) { break }
        }
        return true
    }

    /// The agent's intervals in `detail`; a last interval shorter than the others is left out,
    /// so every rate stands for the same length of time. At most `intervalLimit` intervals are read.
    public init?(detail: JSONValue?) {
        guard let step = detail?["interval_s"]?.double, step > 0, step.isFinite else { return nil }
        var rates: [Double] = []
        var wellFormed = true
        let read = Self.readIntervals(detail) { item in
            guard !item.isPlainNumber, let start = item.start, let end = item.end else { wellFormed = false; return false }
            if end - start < step * 0.99 { return false }
            rates.append(item.rate)
            return true
        }
        guard read, wellFormed else { return nil }
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
