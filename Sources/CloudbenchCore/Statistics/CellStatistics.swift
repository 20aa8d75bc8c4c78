import Foundation

/// Everything measured in one cell across repetitions, runs and pairs.
public struct CellStatistics: Hashable, Sendable {
    /// One usable value and the round it came from: run, pair and repetition.
    public struct Observation: Hashable, Sendable {
        public var runID: String
        public var pair: String
        public var repetition: Int
        public var value: Double

        /// The round: an overlay's value and the host's value of the same round are a pair.
        public var round: String { "\(runID)\u{1F}\(pair)\u{1F}\(repetition)" }
    }

    /// The newest price a record of this cell was made under.
    public struct RecordedPrice: Hashable, Sendable {
        public var money: Money
        public var runID: String
        public var time: String
        public var source: String?
    }

    public var key: CellIdentity
    /// The unit of `summary` (canonical for the test, see `MeasurementUnit`).
    public var unit: String
    /// Over the `ok` records with a value; nil when there are none.
    public var summary: Summary?
    /// The values behind `summary`, sorted by value, repetition, run and pair (so the result
    /// does not depend on record order), for paired comparisons.
    public var observations: [Observation]
    /// Records with status `failed`: counted, never averaged in.
    public var failed: Int
    /// `ok` records without a value, with a unit that does not fit the test, or whose values
    /// cannot be summarised (so large the mean or variance overflows): counted, skipped.
    public var unusable: Int
    /// Pair names that contributed records, sorted.
    public var pairs: [String]
    /// Run ids that contributed records, sorted.
    public var runIDs: [String]
    public var recordedPrice: RecordedPrice?
}

/// Groups records into cells by `CellIdentity` and summarises each: O(n log n) (one
/// dictionary pass, then a sort per cell for the median).
///
/// A failed record often has no measurement and so no `detail` to read its knobs from. It is
/// counted in the one cell of the same instances, path and test whose knobs agree with those it
/// does state; when there is no such cell, or several, in a cell of its own (never guessed).
public enum ResultStatistics {
    /// Which cell each `ok` record belongs to, worked out once per record (`CellIdentity(r)`
    /// reads the record's knobs from `detail` and is hashed): every pass over the records that
    /// groups them by cell (the statistics, the figures read from `detail`) reads its slot here.
    public struct Grouping: Sendable {
        /// The identities of the `ok` records, each once, in the order of their first record.
        public var keys: [CellIdentity]
        /// Per record, its index in `keys`; -1 for a `failed` record (grouped by `cells`, which
        /// matches it on the knobs it states).
        public var slots: [Int32]
    }

    /// The grouping of `records`; big inputs are worked out in two halves side by side.
    public static func grouping(_ records: [ResultRecord]) -> Grouping {
        let half = records.count / 2
        guard records.count >= 20_000 else { return grouping(records, 0..<records.count) }
        // Each task writes only its own box; `concurrentPerform` returns after both.
        final class Box: @unchecked Sendable { var value = Grouping(keys: [], slots: []) }
        let boxes = [Box(), Box()]
        DispatchQueue.concurrentPerform(iterations: 2) { t in
            boxes[t].value = grouping(records, t == 0 ? 0..<half : half..<records.count)
        }
        var keys = boxes[0].value.keys
        var index: [CellIdentity: Int32] = [:]
        for (s, k) in keys.enumerated() { index[k] = Int32(s) }
        // The second half's slots, renumbered into the first half's (new keys after them).
        let renumber: [Int32] = boxes[1].value.keys.map { k in
            if let s = index[k] { return s }
            let s = Int32(keys.count)
            index[k] = s
            keys.append(k)
            return s
        }
        var slots = boxes[0].value.slots
        slots.reserveCapacity(records.count)
        for s in boxes[1].value.slots { slots.append(s < 0 ? -1 : renumber[Int(s)]) }
        return Grouping(keys: keys, slots: slots)
    }

    /// The grouping of `records[range]`, slots numbered from 0 within it.
    static func grouping(_ records: [ResultRecord], _ range: Range<Int>) -> Grouping {
        var out = Grouping(keys: [], slots: [])
        out.slots.reserveCapacity(range.count)
        var index: [CellIdentity: Int32] = [:]
        records.withUnsafeBufferPointer { rs in
            for i in range {
                guard rs[i].status != .failed else { out.slots.append(-1); continue }
                let key = CellIdentity(rs[i])
                if let s = index[key] { out.slots.append(s); continue }
                let s = Int32(out.keys.count)
                index[key] = s
                out.keys.append(key)
                out.slots.append(s)
            }
        }
        return out
    }

    public static func cells(_ records: [ResultRecord]) -> [CellIdentity: CellStatistics] {
        cells(records, grouping: grouping(records))
    }

    /// The same with the records' grouping already worked out.
    public static func cells(_ records: [ResultRecord], grouping: Grouping) -> [CellIdentity: CellStatistics] {
        struct Acc {
            var observations: [CellStatistics.Observation] = []
            var unit: String?
            var failed = 0
            var unusable = 0
            var pairs: Set<String> = []
            var runs: Set<String> = []
            // Consecutive records of a cell mostly share pair and run: skip re-hashing them.
            var lastPair = ""
            var lastRun = ""
            /// Index of the newest record with a price.
            var newestPriced: Int?
        }
        // Accumulators live in an array and are mutated in place; a dictionary maps each key to
        // its slot (copying an accumulator out and back would copy its arrays every time).
        var keys = grouping.keys
        var accs = [Acc](repeating: Acc(), count: keys.count)
        var slots: [CellIdentity: Int] = [:]
        for (s, k) in keys.enumerated() { slots[k] = s }
        var failures: [Int] = []
        // Fields are read through the buffer: binding whole records would copy (retain) each one.
        records.withUnsafeBufferPointer { rs in
            for i in rs.indices {
                if rs[i].status == .failed {
                    failures.append(i)
                    continue
                }
                let slot = Int(grouping.slots[i])
                let key = keys[slot]
                if accs[slot].lastPair != rs[i].pair { accs[slot].pairs.insert(rs[i].pair); accs[slot].lastPair = rs[i].pair }
                if accs[slot].lastRun != rs[i].runID { accs[slot].runs.insert(rs[i].runID); accs[slot].lastRun = rs[i].runID }
                if rs[i].price != nil {
                    if let n = accs[slot].newestPriced {
                        if rs[i].time > rs[n].time || (rs[i].time == rs[n].time && rs[i].id > rs[n].id) { accs[slot].newestPriced = i }
                    } else {
                        accs[slot].newestPriced = i
                    }
                }
                if let v = rs[i].value, v.isFinite, v >= 0,
                   let (x, unit) = MeasurementUnit.normalise(v, unit: rs[i].unit, test: key.test),
                   accs[slot].unit == nil || accs[slot].unit == unit {
                    accs[slot].observations.append(.init(runID: rs[i].runID, pair: rs[i].pair, repetition: rs[i].repetition, value: x))
                    accs[slot].unit = unit
                } else {
                    accs[slot].unusable += 1
                }
            }
        }
        // Failed records: into the one cell their stated knobs agree with, else their own.
        var siblings: [CellIdentity: [Int]] = [:]
        for (slot, key) in keys.enumerated() { siblings[key.withoutSetup, default: []].append(slot) }
        for i in failures {
            let r = records[i]
            var key = CellIdentity(r)
            let stated = TestSetup.stated(test: r.test, view: r.detailView)
            let matches = siblings[key.withoutSetup, default: []].filter { stated.agrees(with: keys[$0].setup) }
            let slot: Int
            if matches.count == 1 {
                slot = matches[0]
                key = keys[slot]
            } else if let s = slots[key] {
                slot = s
            } else {
                slot = accs.count
                slots[key] = slot
                accs.append(Acc())
                keys.append(key)
            }
            accs[slot].failed += 1
            accs[slot].pairs.insert(r.pair)
            accs[slot].runs.insert(r.runID)
            if r.price != nil, accs[slot].newestPriced.map({ (r.time, r.id) > (records[$0].time, records[$0].id) }) ?? true {
                accs[slot].newestPriced = i
            }
        }
        var out: [CellIdentity: CellStatistics] = [:]
        out.reserveCapacity(keys.count)
        for (key, var acc) in zip(keys, accs) {
            // Value first: values rarely tie, so the strings are seldom compared.
            acc.observations.sort { ($0.value, $0.repetition, $0.runID, $0.pair) < ($1.value, $1.repetition, $1.runID, $1.pair) }
            let price = acc.newestPriced.map { n in
                CellStatistics.RecordedPrice(money: records[n].price!, runID: records[n].runID, time: records[n].time,
                                             source: records[n].source)
            }
            // Every figure here is a throughput, a time or a rate: none can be below zero.
            // Values no summary can hold (overflowing sums) make the whole cell unusable.
            let summary = Summary(acc.observations.map(\.value), floor: 0)
            let unusable = acc.unusable + (summary == nil ? acc.observations.count : 0)
            out[key] = CellStatistics(key: key, unit: acc.unit ?? MeasurementUnit.canonical(for: key.test) ?? "",
                                      summary: summary,
                                      observations: acc.observations, failed: acc.failed, unusable: unusable,
                                      pairs: acc.pairs.sorted(), runIDs: acc.runs.sorted(), recordedPrice: price)
        }
        return out
    }

    /// The penalty of `key`'s path versus `host` on the same instances, test and knobs; nil
    /// when either side has no value or `key` is the host path itself. Paired when the rounds
    /// pair up (see `OverlayPenalty.compare`), Welch otherwise.
    public static func penalty(of key: CellIdentity, in cells: [CellIdentity: CellStatistics]) -> OverlayPenalty? {
        guard key.path != "host", let path = cells[key], let host = cells[key.on(path: "host")] else { return nil }
        return OverlayPenalty.compare(path: path, host: host)
    }
}
