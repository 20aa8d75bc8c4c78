import AgentContract

/// How long a plan should take, from the inventory's durations and measured overheads.
///
/// The overheads are what a cell costs besides measuring: starting the agent server and client
/// over SSH (about 1.5 s on a nearby host), and setting up and tearing down a built-in overlay.
/// Pairs that share no host run side by side, up to `parallel` at once.
public struct TimeEstimate: Sendable, Equatable {
    /// Seconds spent measuring (warm-up included) summed over cells.
    public var measuringSeconds: Double
    /// Estimated wall-clock seconds for the whole run.
    public var wallSeconds: Double
    /// Per pair (and per group): its sequential time.
    public var pairSeconds: [String: Double]

    public static let cellOverhead = 1.5
    public static let overlaySetup = 1.0
    /// Preflight (parallel over hosts) plus deploying the agent (parallel, once per host).
    public static let runSetup = 8.0

    /// A `udp_rate: search` cell (`udp_bw` or `udp_pps`) is counted as its search runs (`RateSearchSchedule`): at most
    /// `maxProbes` probes, each a short test with its own cost, which on short cells adds up to
    /// more than the cell's warm-up plus duration. The estimate takes the longest search.
    public static func cellSeconds(_ cell: Cell, run: RunSettings) -> (measuring: Double, total: Double) {
        let overlay = cell.path.needsRoot ? overlaySetup : 0
        if cell.test.isUDP && cell.variant.udpRateSearch {
            let search = RateSearchSchedule(warmup: run.warmup.seconds, duration: run.duration.seconds)
            return (search.longestMeasuringSeconds, search.longestSeconds + cellOverhead + overlay)
        }
        let measuring = run.warmup.seconds + run.duration.seconds
        return (measuring, measuring + cellOverhead + overlay)
    }

    /// `sustained` lengthens burstable types' `tcp_bw` cells as `compare --sustained` runs them.
    public init(plan: Plan, run: RunSettings, parallel: Int, sustained: SustainedRuns? = nil) {
        var measuring = 0.0
        var perPair: [String: Double] = [:]
        for (pair, cells) in plan.cellsByPair {
            var t = 0.0
            for c in cells {
                let s = TimeEstimate.cellSeconds(c, run: sustained?.settings(run, pair: pair, test: c.test) ?? run)
                measuring += s.measuring
                t += s.total
            }
            perPair[pair.name] = t
        }
        // Groups run after the pairs, one at a time.
        var groups = 0.0
        for (group, cells) in plan.cellsByGroup {
            let t = cells.reduce(0.0) { $0 + TimeEstimate.cellSeconds($1, run: run).total }
            measuring += cells.reduce(0.0) { $0 + TimeEstimate.cellSeconds($1, run: run).measuring }
            perPair[group.name] = t
            groups += t
        }
        measuringSeconds = measuring
        pairSeconds = perPair
        wallSeconds = TimeEstimate.runSetup + TimeEstimate.schedule(plan: plan, seconds: perPair, parallel: max(1, parallel)) + groups
    }

    /// List scheduling: whenever a lane is free, start the first waiting pair none of whose hosts is busy.
    static func schedule(plan: Plan, seconds: [String: Double], parallel: Int) -> Double {
        var waiting = plan.cellsByPair.map(\.pair)
        var running: [(end: Double, hosts: Set<String>)] = []
        var now = 0.0
        while !waiting.isEmpty || !running.isEmpty {
            let busy = running.reduce(into: Set<String>()) { $0.formUnion($1.hosts) }
            if running.count < parallel,
               let i = waiting.firstIndex(where: { busy.isDisjoint(with: [$0.server.endpoint, $0.client.endpoint]) }) {
                let p = waiting.remove(at: i)
                running.append((now + (seconds[p.name] ?? 0), [p.server.endpoint, p.client.endpoint]))
                continue
            }
            // Nothing more can start now: advance to the next pair that ends.
            let next = running.map(\.end).min()!
            now = next
            running.removeAll { $0.end <= next }
        }
        return now
    }
}

/// `1h 02m`, `4m 05s`, `12s`.
public func formatDuration(seconds: Double) -> String {
    let s = Int(seconds.rounded())
    if s >= 3600 { return "\(s / 3600)h \(String(format2: (s % 3600) / 60))m" }
    if s >= 60 { return "\(s / 60)m \(String(format2: s % 60))s" }
    return "\(s)s"
}

extension String {
    init(format2 n: Int) { self = n < 10 ? "0\(n)" : "\(n)" }
}
