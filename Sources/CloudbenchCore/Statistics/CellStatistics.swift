/// Everything measured in one cell across repetitions, runs and pairs.
public struct CellStatistics: Hashable, Sendable {
    public var key: CellKey
    /// The unit of `summary` (canonical for the test, see `MeasurementUnit`).
    public var unit: String
    /// Over the `ok` records with a value; nil when there are none.
    public var summary: Summary?
    /// Records with status `failed`: counted, never averaged in.
    public var failed: Int
    /// `ok` records without a value, with a unit that does not fit the test, or whose values
    /// cannot be summarised (so large the mean or variance overflows): counted, skipped.
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
            // Consecutive records of a cell mostly share pair and run: skip re-hashing them.
            var lastPair = ""
            var lastRun = ""
        }
        // Accumulators live in an array and are mutated in place; a dictionary maps each key to
        // its slot (copying an accumulator out and back would copy its arrays every time).
        var slots: [CellKey: Int] = [:]
        var accs: [Acc] = []
        var keys: [CellKey] = []
        // Fields are read through the buffer: binding whole records would copy (retain) each one.
        records.withUnsafeBufferPointer { rs in
            for i in rs.indices {
                let key = CellKey(provider: rs[i].provider, type: rs[i].type, placement: rs[i].placement,
                                  path: rs[i].path, test: rs[i].test)
                let slot: Int
                if let s = slots[key] { slot = s } else {
                    slot = accs.count
                    slots[key] = slot
                    accs.append(Acc())
                    keys.append(key)
                }
                if accs[slot].lastPair != rs[i].pair { accs[slot].pairs.insert(rs[i].pair); accs[slot].lastPair = rs[i].pair }
                if accs[slot].lastRun != rs[i].runID { accs[slot].runs.insert(rs[i].runID); accs[slot].lastRun = rs[i].runID }
                switch rs[i].status {
                case .failed:
                    accs[slot].failed += 1
                case .ok:
                    if let v = rs[i].value, v.isFinite,
                       let (x, unit) = MeasurementUnit.normalise(v, unit: rs[i].unit, test: key.test),
                       accs[slot].unit == nil || accs[slot].unit == unit {
                        accs[slot].values.append(x)
                        accs[slot].unit = unit
                    } else {
                        accs[slot].unusable += 1
                    }
                }
            }
        }
        let groups = zip(keys, accs)
        var out: [CellKey: CellStatistics] = [:]
        out.reserveCapacity(keys.count)
        for (key, acc) in groups {
            // Values no summary can hold (overflowing sums) make the whole cell unusable.
            let summary = Summary(acc.values)
            let unusable = acc.unusable + (summary == nil ? acc.values.count : 0)
            out[key] = CellStatistics(key: key, unit: acc.unit ?? MeasurementUnit.canonical(for: key.test) ?? "",
                                      summary: summary, failed: acc.failed, unusable: unusable,
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
