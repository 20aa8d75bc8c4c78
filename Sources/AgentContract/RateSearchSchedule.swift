/// How `udp_bw --rate-search` spends its cell's time, as a value: the agent runs its probes by
/// it (`UDPRateSearch`) and the plan's time estimate counts them by it, so both agree.
///
/// The search gets the request's warm-up plus duration (the budget) and splits it into
/// `maxProbes` shares. Each probe is a whole `udp_bw` test of its own (connect, GO, drain,
/// result), which costs about `probeOverhead` seconds besides its warm-up and measured part;
/// the measured part gets what is left of its share, but never less than `minimumDuration`, so a
/// short budget makes the search take longer than the budget.
public struct RateSearchSchedule: Sendable, Equatable {
    /// At most this many probes; fewer when the bracket closes first.
    public static let maxProbes = 7
    /// Seconds a probe costs besides its own warm-up and measured part.
    public static let probeOverhead = 0.7
    /// The shortest measured part of a probe, and the longest warm-up.
    public static let minimumDuration = 0.2
    public static let maximumWarmup = 0.3

    /// Each probe's warm-up and measured part, in seconds.
    public let warmup: Double
    public let duration: Double

    /// The schedule for a search given `warmup` plus `duration` seconds (the cell's own).
    public init(warmup: Double, duration: Double) {
        let perProbe = (warmup + duration) / Double(Self.maxProbes)
        self.warmup = min(Self.maximumWarmup, perProbe * 0.15)
        self.duration = max(Self.minimumDuration, perProbe - self.warmup - Self.probeOverhead)
    }

    /// Seconds one probe takes, start to result.
    public var probeSeconds: Double { warmup + duration + Self.probeOverhead }
    /// Seconds the probes spend sending (warm-up and measured parts), when all `maxProbes` run.
    public var longestMeasuringSeconds: Double { Double(Self.maxProbes) * (warmup + duration) }
    /// Seconds the whole search takes when all `maxProbes` run: its longest.
    public var longestSeconds: Double { Double(Self.maxProbes) * probeSeconds }
}
