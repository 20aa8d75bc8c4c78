/// Which cells measure a burstable instance type, and how long they run.
///
/// A burstable type (`burstable: true` in its catalog) sends at its burst rate until its credit
/// is spent; a `tcp_bw` test shorter than that publishes a rate the instance cannot hold.
/// `run.sustained_after` (default 5 min) is how long such a test must run for the drop to fall
/// inside the measured window; `compare --sustained` runs burstable types' `tcp_bw` cells that
/// long (never shorter than `run.duration`), and `plan` and `validate` warn when it is not asked for.
public struct SustainedRuns: Sendable {
    /// The range `run.sustained_after` is checked against, in milliseconds (5 s, the fewest 1-second intervals a burst can be told in, to 1 h).
    public static let allowedAfter = 5_000...3_600_000

    /// `provider/type` of every burstable type the inventory measures.
    public var burstableTypes: Set<String>
    /// Whether burstable types' `tcp_bw` cells run for `run.sustained_after` (`--sustained`).
    public var enabled: Bool

    public init(inventory: Inventory, catalog: Catalog, enabled: Bool) {
        var types = Set<String>()
        for pair in inventory.pairs where catalog.type(pair.provider, pair.type)?.burstable == true {
            types.insert("\(pair.provider)/\(pair.type)")
        }
        burstableTypes = types
        self.enabled = enabled
    }

    public func isBurstable(_ pair: Pair) -> Bool { burstableTypes.contains("\(pair.provider)/\(pair.type)") }

    /// How `test` runs on `pair`: the run's settings, with the sustained duration when it applies.
    public func settings(_ run: RunSettings, pair: Pair, test: TestKind) -> RunSettings {
        guard enabled, test == .tcpBandwidth, isBurstable(pair), run.duration < run.sustainedAfter else { return run }
        var longer = run
        longer.duration = run.sustainedAfter
        return longer
    }

    /// One line per burstable pair whose `tcp_bw` would run shorter than `run.sustained_after`.
    public func warnings(_ inventory: Inventory) -> [String] {
        guard !enabled, inventory.run.duration < inventory.run.sustainedAfter else { return [] }
        return inventory.pairs.filter { isBurstable($0) && $0.tests.contains(.tcpBandwidth) }.map { pair in
            "pair '\(pair.name)' (\(pair.provider) \(pair.type)) is a burstable type and its tcp_bw runs "
                + "\(inventory.run.duration), less than run.sustained_after (\(inventory.run.sustainedAfter)): it may measure "
                + "burst credit, not the rate the instance holds; run compare with --sustained"
        }
    }
}
