/// What one cell of a report is: the instances (provider, type, placement), the path and the test.
///
/// Records of several pairs or runs with the same key are repetitions of the same cell, so
/// results merged from old and new runs are summarised together.
public struct CellKey: Hashable, Sendable, Comparable {
    public var provider: String
    public var type: String
    /// nil when the records did not say.
    public var placement: String?
    public var path: String
    public var test: String

    public init(provider: String, type: String, placement: String?, path: String, test: String) {
        self.provider = provider
        self.type = type
        self.placement = placement
        self.path = path
        self.test = test
    }

    public init(_ r: ResultRecord) {
        self.init(provider: r.provider, type: r.type, placement: r.placement, path: r.path, test: r.test)
    }

    /// The instances this cell measured, without path and test: a report row.
    public var row: RowKey { RowKey(provider: provider, type: type, placement: placement) }

    public static func < (a: CellKey, b: CellKey) -> Bool {
        (a.row, a.path, a.test) < (b.row, b.path, b.test)
    }
}

/// A provider's instance type at one placement: one row of a report.
public struct RowKey: Hashable, Sendable, Comparable {
    public var provider: String
    public var type: String
    public var placement: String?

    public init(provider: String, type: String, placement: String?) {
        self.provider = provider
        self.type = type
        self.placement = placement
    }

    public static func < (a: RowKey, b: RowKey) -> Bool {
        (a.provider, a.type, a.placement ?? "") < (b.provider, b.type, b.placement ?? "")
    }
}
