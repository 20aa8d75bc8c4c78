import Foundation

/// What `cloudbench provision` creates: pairs of instances per entry, and how `compare` runs on them.
///
/// A fleet is schema 1 YAML in `fleets/*.yaml` (docs/provision.md); its `run:` section reads
/// exactly like an inventory's.
public struct Fleet: Sendable {
    public var file: String
    public var name: String
    /// The currency of the cost guard (`--max-cost`) and of the estimate's total.
    public var currency: String
    public var run: RunSettings
    public var entries: [FleetEntry]

    /// The single provider every entry uses (a fleet is provisioned by one provider at a time).
    public var provider: String { entries.first?.provider ?? "" }
    public var pairCount: Int { entries.reduce(0) { $0 + $1.count } }
}

/// One line of a fleet: `count` pairs of one type in one region.
public struct FleetEntry: Sendable, Hashable {
    public var name: String
    public var provider: String
    public var type: String
    public var region: String
    /// One zone (both members there) or two (server in the first, client in the second: cross-zone).
    /// Empty: the provider picks.
    public var zones: [String]
    /// AWS cluster placement group for the pair.
    public var placementGroup: Bool
    /// The machine image; nil means the provider's documented default (current Ubuntu LTS).
    public var image: String?
    public var count: Int

    public var crossesZones: Bool { zones.count == 2 && zones[0] != zones[1] }

    /// `same-zone`, `cross-zone` or `placement-group`, as the inventory written for it says.
    public var placement: Placement? {
        if placementGroup { return .placementGroup }
        if crossesZones { return .crossZone }
        return zones.isEmpty ? nil : .sameZone
    }

    /// Pair names in the written inventory: `NAME-1`, `NAME-2`, …
    public var pairNames: [String] { (1...max(1, count)).map { "\(name)-\($0)" } }
}
