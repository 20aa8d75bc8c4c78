/// What the agent accepts, in one place: the agent checks its command line and control lines
/// against these, and the inventory loader turns the same limits into `file:line:col` errors, so
/// an inventory that validates never asks the agent for something it refuses.
///
/// Seconds are `Double`, sizes and counts `Int`; every range is closed.
public enum AgentLimits {
    /// `--duration`: the measured window.
    public static let duration: ClosedRange<Double> = 0.001...3600
    /// `--warmup`: time before the measured window.
    public static let warmup: ClosedRange<Double> = 0...600
    /// `--streams`: parallel TCP connections per direction.
    public static let streams: ClosedRange<Int> = 1...128
    /// `--message-size`: bytes per write; 0 picks the test's default.
    public static let messageSize: ClosedRange<Int> = 0...(16 << 20)
    /// `--message-size` for udp_bw and udp_pps: one datagram.
    public static let udpMessageSize: ClosedRange<Int> = 16...65_507
    /// `--rate`: bytes per second a udp_bw sender aims for.
    public static let rate: ClosedRange<Double> = 1000...100e9
    /// `--rate` for udp_pps: datagrams per second the sender aims for.
    public static let packetRate: ClosedRange<Double> = 1...100e6
    /// `--interval`: the length of one interval of the per-interval figures.
    public static let interval: ClosedRange<Double> = 0.001...3600
    /// At most this many intervals in one measured window (`duration / interval`): each costs
    /// memory per stream and a field in the result line.
    public static let intervals = 10_000
    /// `--size`: bytes of the http test's object.
    public static let size: ClosedRange<Int> = 0...(1 << 30)
    /// `--count`: http fetches per mode, or tcp_lat's minimum round trips.
    public static let count: ClosedRange<Int> = 0...10_000_000
    /// `serve --deadline`: the server ends itself after this many seconds (7 days at most).
    public static let deadline: ClosedRange<Double> = 0.001...604_800
    /// `run --flows`: data connections of a group step through a balancer (each its own flow).
    public static let groupFlows: ClosedRange<Int> = 1...64
    /// `run --connect-timeout`.
    public static let connectTimeout: ClosedRange<Double> = 0.1...600

    /// `1...128`, `0.001 to 3600`: how a range reads in an error message.
    public static func describe<T: Comparable & CustomStringConvertible>(_ r: ClosedRange<T>) -> String {
        "\(plain(r.lowerBound)) to \(plain(r.upperBound))"
    }

    /// `100000000000.0` → `100000000000`; `0.001` stays.
    static func plain<T: CustomStringConvertible>(_ v: T) -> String {
        if let d = v as? Double, d == d.rounded(), abs(d) < 1e15 { return String(Int(d)) }
        return v.description
    }
}
