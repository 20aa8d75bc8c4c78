import CloudbenchCore

/// The figures a report reads from the records' `detail` besides the headline `value`: RTT
/// percentiles, UDP loss, HTTP times per connection mode, CPU per GB and steal, and per-second
/// throughput. Each is summarised over the `ok` records of its cell (same `CellIdentity` as
/// `ResultStatistics.cells`), so it gets a mean, a median and a 95 % interval like the headline.
public enum DetailFigures {
    /// One figure read from `detail`: its key in the model, the test it belongs to, and how to read it.
    public enum Figure: String, CaseIterable, Sendable, Comparable {
        case rttP50 = "rtt_p50_us", rttP99 = "rtt_p99_us", rttP999 = "rtt_p999_us"
        case retransmits
        case cpuClientPerGB = "cpu_client_s_per_gb", cpuServerPerGB = "cpu_server_s_per_gb"
        case stealClient = "steal_client_pct", stealServer = "steal_server_pct"
        case udpLoss = "loss_pct", udpJitter = "jitter_us", udpSent = "sent_mb_s"
        case httpReusedP50 = "reused_p50_ms", httpReusedP95 = "reused_p95_ms"
        case httpNewP50 = "new_p50_ms", httpNewP95 = "new_p95_ms"
        /// `udp_rate: search`: the highest offered rate with loss under 1 %, MB/s.
        case udpSearchedRate = "searched_mb_s"

        public static func < (a: Figure, b: Figure) -> Bool { a.order < b.order }
        /// Position in `allCases` (declaration order).
        var order: Int {
            switch self {
            case .rttP50: return 0
            case .rttP99: return 1
            case .rttP999: return 2
            case .retransmits: return 3
            case .cpuClientPerGB: return 4
            case .cpuServerPerGB: return 5
            case .stealClient: return 6
            case .stealServer: return 7
            case .udpLoss: return 8
            case .udpJitter: return 9
            case .udpSent: return 10
            case .httpReusedP50: return 11
            case .httpReusedP95: return 12
            case .httpNewP50: return 13
            case .httpNewP95: return 14
            case .udpSearchedRate: return 15
            }
        }

        /// The figures of a test, in column order.
        public static func of(test: String) -> [Figure] {
            switch test {
            case "tcp_bw": return bandwidth
            case "tcp_lat": return latency
            case "udp_bw": return udp
            case "udp_pps": return packets
            case "tcp_crr": return connections
            case "http": return http
            default: return []
            }
        }

        static let bandwidth = figures(test: "tcp_bw"), latency = figures(test: "tcp_lat")
        static let udp = figures(test: "udp_bw"), http = figures(test: "http"), packets = figures(test: "udp_pps")
        static let connections = figures(test: "tcp_crr")

        static func figures(test: String) -> [Figure] {
            switch test {
            case "tcp_bw": return [.retransmits, .cpuClientPerGB, .cpuServerPerGB, .stealClient, .stealServer]
            case "tcp_lat": return [.rttP50, .rttP99, .rttP999, .cpuClientPerGB, .cpuServerPerGB, .stealClient, .stealServer]
            case "udp_bw": return [.udpLoss, .udpJitter, .udpSent, .udpSearchedRate, .cpuClientPerGB, .cpuServerPerGB, .stealClient, .stealServer]
            case "udp_pps": return [.udpLoss, .cpuClientPerGB, .cpuServerPerGB, .stealClient, .stealServer]
            // A transaction's time (connect to close) in the RTT percentile columns, named for it.
            case "tcp_crr": return [.rttP50, .rttP99]
            case "http": return [.httpReusedP50, .httpReusedP95, .httpNewP50, .httpNewP95]
            default: return []
            }
        }

        /// Every figure of `test` that `d` carries, in the unit of its name: each object on the way
        /// (`rtt_us`, `cpu.client`, an HTTP connection mode) is looked up once for all its figures.
        static func readAll(test: String, _ d: JSONView, _ sink: (Figure, Double) -> Void) {
            func put(_ f: Figure, _ v: Double?) { if let v = f.accept(v) { sink(f, v) } }
            func cpu() {
                guard let cpu = d["cpu"] else { return }
                let client = cpu["client"], server = cpu["server"]
                put(.cpuClientPerGB, client?["cpu_seconds_per_gigabyte"]?.double)
                put(.cpuServerPerGB, server?["cpu_seconds_per_gigabyte"]?.double)
                put(.stealClient, client?["steal_percent"]?.double)
                put(.stealServer, server?["steal_percent"]?.double)
            }
            switch test {
            case "tcp_bw":
                put(.retransmits, d["retransmits"]?.double)
                cpu()
            case "tcp_lat":
                let rtt = d["rtt_us"]
                put(.rttP50, rtt?["p50"]?.double)
                put(.rttP99, rtt?["p99"]?.double)
                put(.rttP999, rtt?["p999"]?.double)
                cpu()
            case "udp_bw":
                put(.udpLoss, d["loss_percent"]?.double)
                put(.udpJitter, d["jitter_us"]?.double)
                put(.udpSent, d["sender_bytes_per_second"]?.double.map { $0 / 1e6 })
                put(.udpSearchedRate, d["searched_rate_bytes_per_second"]?.double.map { $0 / 1e6 })
                cpu()
            case "tcp_crr":
                let t = d["transaction_us"]
                put(.rttP50, t?["p50"]?.double)
                put(.rttP99, t?["p99"]?.double)
            case "udp_pps":
                put(.udpLoss, d["loss_percent"]?.double)
                cpu()
            case "http":
                let reused = httpTotals(d, ["reuse", "reused", "keepalive"]), new = httpTotals(d, ["new_connection", "new"])
                put(.httpReusedP50, reused.p50)
                put(.httpReusedP95, reused.p95)
                put(.httpNewP50, new.p50)
                put(.httpNewP95, new.p95)
            default:
                break
            }
        }

        /// A figure as read, if it can be one: every figure here is a count, a time, a rate or a
        /// share, finite and not below zero (and a share at most 100).
        func accept(_ v: Double?) -> Double? {
            guard let v, v.isFinite, v >= 0, v < 1e15 else { return nil }
            if (self == .udpLoss || self == .stealClient || self == .stealServer) && v > 100 { return nil }
            return v
        }

        /// p50 and p95 of `total_us` (or `total_ms`) of a connection mode, in ms: each from the
        /// first of `modes` that has it, `total_us` before `total_ms` within a mode.
        static func httpTotals(_ d: JSONView, _ modes: [String]) -> (p50: Double?, p95: Double?) {
            var p50: Double?, p95: Double?
            for m in modes {
                guard let mode = d[m] else { continue }
                let us = mode["total_us"], ms = mode["total_ms"]
                if p50 == nil { p50 = us?["p50"]?.double.map { $0 / 1000 } ?? ms?["p50"]?.double }
                if p95 == nil { p95 = us?["p95"]?.double.map { $0 / 1000 } ?? ms?["p95"]?.double }
                if p50 != nil && p95 != nil { break }
            }
            return (p50, p95)
        }
    }

    /// A cell's figures: each summarised over the records that carry it (its own `n`).
    public typealias Figures = [Figure: Summary]

    /// The per-interval throughput of one `tcp_bw` record whose series shows something: an
    /// interval below half the series' median (a drop) or at zero (a stall).
    public struct Timeline: Hashable, Sendable {
        public enum Event: String, Hashable, Sendable { case drop, stall }
        public var cell: CellIdentity
        public var recordID: String
        public var pair: String
        public var repetition: Int
        /// Seconds from the start of the measured window to the start of each interval.
        public var starts: [Double]
        /// MB/s of each interval.
        public var rates: [Double]
        public var event: Event
        /// The lowest interval as a share of the series' median (0 for a stall).
        public var lowestShare: Double
    }

    /// Scratch space for `timeline`, reused across records.
    struct IntervalBuffer {
        var rates: [Double] = []
        var starts: [Double] = []
    }

    /// What one stretch of the records holds (`partial`); stretches are merged by `merge`, in any
    /// order, to the same result (values are summarised in sorted order, timelines chosen by share and id).
    public struct Partial: Sendable {
        /// Per cell slot of the grouping, one value list per figure (empty until a record has one).
        var values: [[[Double]]] = []
        var timelines: [CellIdentity: Timeline] = [:]
    }

    /// The figures of the records in `range`, and per `tcp_bw` cell the one record whose series
    /// shows the deepest drop. Each record's cell is its slot in `grouping` (hashed once, there).
    public static func partial(_ records: [ResultRecord], _ range: Range<Int>, grouping: ResultStatistics.Grouping) -> Partial {
        let count = Figure.allCases.count
        var out = Partial()
        out.values = Array(repeating: [], count: grouping.keys.count)
        var buffer = IntervalBuffer()
        records.withUnsafeBufferPointer { rs in
            for i in range where rs[i].status == .ok && rs[i].value != nil {
                guard let d = rs[i].detailView else { continue }
                guard !Figure.of(test: rs[i].test).isEmpty else { continue }
                let slot = Int(grouping.slots[i])
                if out.values[slot].isEmpty { out.values[slot] = Array(repeating: [], count: count) }
                Figure.readAll(test: rs[i].test, d) { f, v in out.values[slot][f.order].append(v) }
                if rs[i].test == "tcp_bw", let t = timeline(d, key: grouping.keys[slot], record: rs[i], buffer: &buffer) {
                    keep(t, in: &out.timelines)
                }
            }
        }
        return out
    }

    /// Per cell, the timeline with the lowest share (then the smallest record id).
    static func keep(_ t: Timeline, in timelines: inout [CellIdentity: Timeline]) {
        if let old = timelines[t.cell], (old.lowestShare, old.recordID) <= (t.lowestShare, t.recordID) { return }
        timelines[t.cell] = t
    }

    /// Figures per cell, summarised over every part, and the timelines sorted by cell.
    public static func merge(_ parts: [Partial], grouping: ResultStatistics.Grouping) -> (figures: [CellIdentity: Figures], timelines: [Timeline]) {
        var timelines: [CellIdentity: Timeline] = [:]
        for part in parts {
            for t in part.timelines.values { keep(t, in: &timelines) }
        }
        var figures: [CellIdentity: Figures] = [:]
        figures.reserveCapacity(grouping.keys.count)
        for (slot, key) in grouping.keys.enumerated() {
            let lists = parts.map { $0.values[slot] }.filter { !$0.isEmpty }
            guard !lists.isEmpty else { continue }
            var out: Figures = [:]
            for f in Figure.allCases {
                let v = lists.flatMap { $0[f.order] }
                if !v.isEmpty { out[f] = Summary(v, floor: 0) }
            }
            figures[key] = out
        }
        return (figures, timelines.values.sorted { ($0.cell, $0.recordID) < ($1.cell, $1.recordID) })
    }

    /// The record's intervals (`[{start_s, bytes_per_second}]` as the agent writes them, or plain
    /// MB/s numbers one second apart; read by `ThroughputTimeline.readIntervals`), when the series
    /// has a drop or a stall.
    static func timeline(_ d: JSONView, key: CellIdentity, record r: ResultRecord, buffer: inout IntervalBuffer) -> Timeline? {
        // Into buffers reused across records; copied out only for a series worth keeping. The
        // rates first: the interval starts are read only for a series that is kept.
        buffer.rates.removeAll(keepingCapacity: true)
        let read = ThroughputTimeline.readIntervals(view: d, times: false) { item in
            buffer.rates.append(item.isPlainNumber ? item.rate : item.rate / 1e6)
            return true
        }
        guard read, buffer.rates.count >= 3 else { return nil }
        let rates = buffer.rates
        var lowest = Double.infinity, highest = 0.0
        for r in rates {  // finite and at least zero: the reader refused any other
            lowest = min(lowest, r)
            highest = max(highest, r)
        }
        // The median is at most the highest: a series whose lowest is half its highest has no drop.
        guard lowest < highest * 0.5 else { return nil }
        let sorted = rates.sorted()
        let median = sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
        guard median > 0 else { return nil }
        let share = lowest / median
        let event: Timeline.Event
        if lowest <= median * 0.02 { event = .stall } else if share < 0.5 { event = .drop } else { return nil }
        // The same entries again (all read well above), now with their starts.
        buffer.starts.removeAll(keepingCapacity: true)
        ThroughputTimeline.readIntervals(view: d) { item in
            buffer.starts.append(item.isPlainNumber ? Double(buffer.starts.count) : item.start ?? Double(buffer.starts.count))
            return true
        }
        return Timeline(cell: key, recordID: r.id, pair: r.pair, repetition: r.repetition, starts: buffer.starts, rates: rates,
                        event: event, lowestShare: share)
    }
}
