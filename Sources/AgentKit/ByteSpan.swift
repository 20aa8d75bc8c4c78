/// The bytes a receiver counted and the exact time they span.
///
/// The span is marked at reads: at each, the bytes that had arrived by its completion time
/// (read so far, plus what the kernel still queues when the read filled its buffer). The rate
/// is the difference of two marks over the difference of their times, so neither the read or
/// write sizes nor where the window's edges fall moves it.
///
/// A mark can only be late: the thread may lose the processor between `recv` returning and
/// reading the clock (tens of milliseconds on a loaded machine), which would stretch or shrink
/// the span. So each end is the best mark of a short stretch: on a steady link every on-time
/// mark lies on the line arrived = rate × t + c and a late one below it, so the mark highest
/// above a line of the warm-up's rate is on time.
public struct ByteSpan: Sendable {
    /// Time of the first mark.
    public private(set) var first: Double?
    /// Time of the last mark.
    public private(set) var last: Double?
    private var arrivedAtFirst = 0
    private var arrivedAtLast = 0
    private var firstScore = -Double.infinity
    private var lastScore = -Double.infinity
    private var lastInEdge = false
    private let opened: Double, end: Double, rate: Double

    /// How long each end's stretch is.
    public static let edge = 0.1

    /// A span for the window [opened, end) of a stream expected to carry `rate` bytes/s
    /// (0 when unknown: the ends are then the first and last marks).
    public init(opened: Double = 0, end: Double = .infinity, rate: Double = 0) {
        self.opened = opened; self.end = end; self.rate = rate
    }

    /// Marks that `arrived` bytes (counted from the connection's start) had arrived by time `t`.
    @inline(__always)
    public mutating func mark(arrived: Int, at t: Double) {
        let score = Double(arrived) - rate * (t - opened)
        if first == nil || (t < opened + Self.edge && score > firstScore) {
            first = t; arrivedAtFirst = arrived; firstScore = score
        }
        if t >= end - Self.edge {
            if !lastInEdge || score > lastScore { last = t; arrivedAtLast = arrived; lastScore = score; lastInEdge = true }
        } else if !lastInEdge {
            last = t; arrivedAtLast = arrived
        }
    }

    /// Bytes that arrived between the first mark and the last.
    public var bytes: Int { arrivedAtLast - arrivedAtFirst }

    /// Seconds from the first mark to the last (0 before two marks).
    public var seconds: Double {
        guard let first, let last else { return 0 }
        return last - first
    }

    /// The rate over the span; nil before two marks.
    public var bytesPerSecond: Double? { seconds > 0 ? Double(bytes) / seconds : nil }

    /// Parallel streams as one: the sum of their rates, each over its own exact span (nil when
    /// no stream has one). Not their bytes over a common span: each stream's ends fall at its
    /// own reads, so a common span would miss a little of each stream's bytes.
    public static func aggregateRate(_ spans: [ByteSpan]) -> Double? {
        let rates = spans.compactMap(\.bytesPerSecond)
        return rates.isEmpty ? nil : rates.reduce(0, +)
    }
}
