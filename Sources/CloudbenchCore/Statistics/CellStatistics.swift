/// Everything measured in one cell across repetitions, runs and pairs.
public struct CellStatistics: Hashable, Sendable {
    public var key: CellKey
    /// The unit of `summary` (canonical for the test, see `MeasurementUnit`).
    public var unit: String
    /// Over the `ok` records with a value; nil when there are none.
    public var summary: Summary?
    /// Records with status `failed`: counted, never averaged in.
    public var failed: Int
    /// `ok` records without a value or with a unit that does not fit the test: counted, skipped.
    public var unusable: Int
    /// Pair names that contributed records, sorted.
    public var pairs: [String]
    /// Run ids that contributed records, sorted.
    public var runIDs: [String]
}

/// Groups records into cells and summarises each: O(n log n) (one dictionary pass, then a
/// sort per cell for the median).
public enum ResultStatistics {
    public static func cells(_ records: [ResultRecord]) -> [CellKey: CellStatistics] {
        struct Acc {
            var values: [Double] = []
            var unit: String?
            var failed = 0
            var unusable = 0
            var pairs: Set<String> = []
            var runs: Set<String> = []
        }
        var groups: [CellKey: Acc] = [:]
        for r in records {
            let key = CellKey(r)
            var acc = groups[key, default: Acc()]
            acc.pairs.insert(r.pair)
            acc.runs.insert(r.runID)
            switch r.status {
            case .failed:
                acc.failed += 1
            case .ok:
                if let v = r.value, v.isFinite, let (x, unit) = MeasurementUnit.normalise(v, unit: r.unit, test: r.test),
                   acc.unit == nil || acc.unit == unit {
                    acc.values.append(x)
                    acc.unit = unit
                } else {
                    acc.unusable += 1
                }
            }
            groups[key] = acc
        }
        var out: [CellKey: CellStatistics] = [:]
        out.reserveCapacity(groups.count)
        for (key, acc) in groups {
            out[key] = CellStatistics(key: key, unit: acc.unit ?? MeasurementUnit.canonical(for: key.test) ?? "",
                                      summary: Summary(acc.values), failed: acc.failed, unusable: acc.unusable,
                                      pairs: acc.pairs.sorted(), runIDs: acc.runs.sorted())
        }
        return out
    }

    /// The penalty of `key`'s path versus `host` on the same row and test; nil when either
    /// side has no value or `key` is the host path itself.
    public static func penalty(of key: CellKey, in cells: [CellKey: CellStatistics]) -> OverlayPenalty? {
        guard key.path != "host" else { return nil }
        var hostKey = key
        hostKey.path = "host"
        guard let p = cells[key]?.summary, let h = cells[hostKey]?.summary else { return nil }
        return OverlayPenalty(path: p, host: h)
    }
}
