/// A point in monotonic time (`Clock`) that blocking calls must not wait past.
public struct Deadline: Sendable {
    /// `Clock.now()` seconds at which it passes.
    public let end: Double

    public init(seconds: Double) { end = Clock.now() + seconds }

    public init(at end: Double) { self.end = end }

    /// Seconds left, never negative.
    public var secondsRemaining: Double { max(0, end - Clock.now()) }

    public var remaining: Duration { .nanoseconds(Int64(min(secondsRemaining, 1e9) * 1e9)) }

    public var expired: Bool { Clock.now() >= end }

    /// For poll(2): what is left, rounded up to whole milliseconds, at most Int32.max.
    public var remainingMilliseconds: Int32 {
        Int32(clamping: Int64(min(secondsRemaining * 1000, Double(Int32.max)).rounded(.up)))
    }
}
