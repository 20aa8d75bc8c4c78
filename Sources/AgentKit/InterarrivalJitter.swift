/// RFC 3550's interarrival jitter (section 6.4.1): the mean deviation of the transit time of
/// consecutive datagrams, smoothed with gain 1/16, as RTP receivers and iperf report it.
///
/// Transit is the receiver's clock minus the sender's timestamp; the hosts' clocks need not agree,
/// since only differences of transits count (a constant offset cancels).
struct InterarrivalJitter: Sendable {
    private var lastTransit: Int64?
    /// The running estimate, nanoseconds.
    private(set) var nanoseconds: Double = 0
    /// Datagrams that updated the estimate (the first only sets the reference).
    private(set) var samples = 0

    /// One datagram, in arrival order: when it was sent (sender's monotonic ns) and received (ours).
    mutating func note(sent: UInt64, received: UInt64) {
        let transit = Int64(bitPattern: received &- sent)
        if let last = lastTransit {
            let d = Double(transit &- last).magnitude
            nanoseconds += (d - nanoseconds) / 16
            samples += 1
        }
        lastTransit = transit
    }

    /// Microseconds, or nil before two datagrams arrived.
    var microseconds: Double? { samples > 0 ? nanoseconds / 1000 : nil }
}
