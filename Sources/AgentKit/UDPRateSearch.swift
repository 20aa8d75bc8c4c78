import AgentContract
import Syscall

/// The bracketing of `udp_bw --rate-search` (and `udp_pps`'s, in datagrams per second), as a value: from the probes so far, the next
/// offered rate to try, or none when the bracket is tight enough.
///
/// A probe with loss under 1 % raises the floor; one with more lowers the ceiling. Until there
/// is a floor, the next offer is just under the overloaded probe's goodput (the offer times the
/// share delivered: the link's capacity shows through the loss); until there is a ceiling, the
/// offer quadruples. Then it bisects.
public struct RateBracket: Sendable, Equatable {
    /// Loss below this share passes.
    public static let lossLimitPercent = 1.0
    /// The search ends when the ceiling is within this share above the floor.
    public static let tightness = 0.03

    /// The highest offered rate that passed, and the lowest that failed.
    public private(set) var floor: Double?
    public private(set) var ceiling: Double?
    /// The last offer whose sender fell short without loss: offered once more before the shortfall
    /// counts.
    public private(set) var shortOffer: Double?
    /// The rates that may be offered: `AgentLimits.rate` (bytes per second) or `.packetRate`.
    public let limits: ClosedRange<Double>

    public init(limits: ClosedRange<Double> = AgentLimits.rate) { self.limits = limits }

    /// Notes one probe; returns the next rate to offer, or nil when done. `sent` is what the
    /// sender managed: a loaded host may fall short of the offer, and then what passed is `sent`,
    /// not the offer. The first time, the same offer is tried again: a stall (another process, a
    /// hypervisor's steal) says nothing about the link, and one probe of 0.2 s can lose 13 % of its
    /// time to one (seen in CI: 17,300/s sent of 19,945/s offered, no loss, under a 20,000/s cap).
    /// Short twice at the same offer, the sender is the limit: nothing above what it sent is tried.
    ///
    /// A sender that fell short still sent at the offer between its stalls (it makes up at most a
    /// few milliseconds at once, `UDPBandwidthTest.catchUpSeconds`): its loss is the offer's,
    /// and its average rate (and the receiver's) says nothing about the link. So a failed probe
    /// caps the ceiling at the offer and estimates the link from the share delivered, not from
    /// the rate received (a stalled sender at 24,000/s over a 20,000/s cap sends 16,000/s on
    /// average, loses 16 % and receives 13,400/s: the link carries 24,000 × 0.84 ≈ 20,200/s).
    public mutating func note(offered: Double, sent: Double, lossPercent: Double) -> Double? {
        let senderBound = sent < offered * 0.97
        let actual = senderBound ? max(sent, limits.lowerBound) : offered
        // What the link carried of the offer (what was received, when the sender kept up).
        let goodput = offered * min(1, max(0, 1 - lossPercent / 100))
        if lossPercent < Self.lossLimitPercent {
            floor = max(floor ?? 0, actual)
            if senderBound {
                if shortOffer != offered {
                    shortOffer = offered
                    return offered
                }
                ceiling = min(ceiling ?? .infinity, actual * (1 + Self.tightness / 2))
            }
        } else {
            // An overloaded link delivers about what it can carry: no offer much above that passes.
            var c = min(ceiling ?? .infinity, offered)
            if goodput > (floor ?? 0) { c = min(c, goodput * 1.05) }
            ceiling = c
        }
        if let f = floor, let c = ceiling, c <= f { ceiling = f * (1 + Self.tightness) }
        switch (floor, ceiling) {
        case (let f?, nil):
            guard f < limits.upperBound else { return nil }
            return min(limits.upperBound, f * 4)
        case (nil, let c?):
            guard c > limits.lowerBound else { return nil }
            // Just under the goodput seen, and always well below the failed offer.
            let guess = goodput > 0 ? goodput * 0.97 : c / 4
            return max(limits.lowerBound, min(guess, c * 0.95))
        case (let f?, let c?):
            if (c - f) / c <= Self.tightness { return nil }
            return (f + c) / 2
        case (nil, nil):
            return nil
        }
    }
}

/// `udp_bw --rate-search`: short `udp_bw` probes against the same server, each its own test
/// (its own single-use key), bracketing the highest offered rate with loss under 1 % within the
/// request's warm-up plus duration. The result is the best passing probe's measurement with the
/// search beside it (`udp_rate: "search"`, `searched_rate_bytes_per_second`, `search`).
///
/// `udp_pps --rate-search` is the same search in datagrams per second: its probes are `udp_pps`
/// tests, and the rates are named `…_packets_per_second` (`searched_rate_packets_per_second`).
public enum UDPRateSearch {
    /// At most this many probes; fewer when the bracket closes first.
    public static let maxProbes = RateSearchSchedule.maxProbes

    static func run(_ o: RunOptions) throws -> JSON {
        // Each probe's share of the request's warm-up plus duration (`RateSearchSchedule`).
        let schedule = RateSearchSchedule(warmup: o.request.warmup, duration: o.request.duration)
        let warmup = schedule.warmup, duration = schedule.duration
        let started = Clock.now()
        let limits = o.request.test == .udpPackets ? AgentLimits.packetRate : AgentLimits.rate
        let unit = o.request.test == .udpPackets ? "packets" : "bytes"
        var bracket = RateBracket(limits: limits)
        var rate = min(max(o.request.rate, limits.lowerBound), limits.upperBound)
        var probes: [JSON] = []
        var best: (offered: Double, result: JSON)?
        var last: JSON?
        var nics: [JSON?] = []
        for _ in 0..<maxProbes {
            var probe = o
            probe.rateSearch = false
            probe.request.rate = rate
            probe.request.warmup = warmup
            probe.request.duration = duration
            probe.request.interval = duration
            let result = try Client.run(probe)
            last = result
            nics.append(result["nic"])
            let received = number(result, "receiver_\(unit)_per_second") ?? 0
            let sent = number(result, "sender_\(unit)_per_second") ?? 0
            let loss = number(result, "loss_percent") ?? 100
            probes.append(.object([("offered_\(unit)_per_second", .double(rate)), ("sent_\(unit)_per_second", .double(sent)),
                                   ("received_\(unit)_per_second", .double(received)),
                                   ("loss_percent", .double(loss)), ("duration_s", .double(duration))]))
            // What was really offered: the sender may fall short of the target on a loaded host.
            let offered = min(rate, max(sent, limits.lowerBound))
            if loss < RateBracket.lossLimitPercent, offered >= best?.offered ?? 0 { best = (offered, result) }
            guard let next = bracket.note(offered: rate, sent: sent, lossPercent: loss) else { break }
            rate = next
        }
        // No offer passed: the lowest probe's figures stand, and the record says none was found.
        guard case .object(var fields) = best?.result ?? last! else { return best?.result ?? last! }
        // The NIC's counters over every probe (the ones over the limit are the ones that grow them).
        if let nic = NICSum.over(nics) {
            if let i = fields.firstIndex(where: { $0.0 == "nic" }) { fields[i].1 = nic } else { fields.append(("nic", nic)) }
        }
        fields.append(("udp_rate", .string("search")))
        fields.append(("searched_rate_\(unit)_per_second", best.map { .double($0.offered) } ?? .null))
        fields.append(("search_s", .double(Clock.now() - started)))
        fields.append(("search", .array(probes)))
        return .object(fields)
    }

    static func number(_ j: JSON, _ key: String) -> Double? {
        guard case .object(let o) = j, let v = o.first(where: { $0.0 == key })?.1 else { return nil }
        switch v {
        case .double(let d): return d
        case .int(let i): return Double(i)
        default: return nil
        }
    }
}
