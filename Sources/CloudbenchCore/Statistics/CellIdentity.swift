/// Everything that changes a figure: which instances (provider, type, region, placement), the
/// path, the test and the test's own knobs. The one key records are grouped by: records of
/// several pairs or runs with the same identity are repetitions of the same cell and are
/// summarised together; records that differ in any field never are.
public struct CellIdentity: Hashable, Sendable, Comparable {
    public var provider: String
    public var type: String
    /// nil when the records did not say (shown as "no region").
    public var region: String?
    /// `same-zone`, `cross-zone`, `placement-group`, or what an imported record says; nil when unknown.
    public var placement: String?
    public var path: String
    public var test: String
    public var setup: TestSetup

    public init(provider: String, type: String, region: String?, placement: String?, path: String, test: String,
                setup: TestSetup = TestSetup()) {
        self.provider = provider
        self.type = type
        self.region = region
        self.placement = placement
        self.path = path
        self.test = test
        self.setup = setup
    }

    /// The identity of the cell `r` belongs to: region and placement read as reports group them
    /// (`same-az` is `same-zone`), knobs from its `detail`.
    public init(_ r: ResultRecord) {
        self.init(provider: r.provider, type: r.type, region: CellIdentity.region(r.region),
                  placement: Placement.canonical(r.placement), path: r.path, test: r.test,
                  setup: TestSetup.of(test: r.test, view: r.detailView))
    }

    /// A record's region, nil for none: empty, or the `unspecified` that imports write by default.
    public static func region(_ text: String) -> String? {
        text.isEmpty || text == "unspecified" ? nil : text
    }

    /// The same cell on another path (an overlay's host counterpart).
    public func on(path: String) -> CellIdentity {
        var c = self
        c.path = path
        return c
    }

    /// The same instances, path and test, with no knobs: what cells that differ only in their
    /// knobs share.
    public var withoutSetup: CellIdentity {
        var c = self
        c.setup = TestSetup()
        return c
    }

    /// True when both cells measured the same instances (provider, type, region, placement).
    public func sameInstances(as other: CellIdentity) -> Bool {
        provider == other.provider && type == other.type && region == other.region && placement == other.placement
    }

    public static func < (a: CellIdentity, b: CellIdentity) -> Bool {
        let pa = Self.placementOrder(a.placement), pb = Self.placementOrder(b.placement)
        if (a.provider, a.type, a.region ?? "") != (b.provider, b.type, b.region ?? "") {
            return (a.provider, a.type, a.region ?? "") < (b.provider, b.type, b.region ?? "")
        }
        if pa != pb { return pa < pb }
        if a.path != b.path { return a.path < b.path }
        if a.test != b.test { return a.test < b.test }
        return a.setup < b.setup
    }

    /// Nearest first for the placements cloudbench knows, then any other alphabetically.
    public static func placementOrder(_ p: String?) -> (Int, String) {
        let known = ["same-host", Placement.sameZone.rawValue, Placement.placementGroup.rawValue, "same-region",
                     Placement.crossZone.rawValue, "cross-region"]
        guard let p else { return (-1, "") }
        return (known.firstIndex(of: p) ?? known.count, p)
    }
}
