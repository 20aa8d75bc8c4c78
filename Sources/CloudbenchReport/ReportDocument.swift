import CloudbenchCore
import Foundation

/// `cloudbench report --json`: the report's figures as one JSON document, from the same model
/// the markdown is rendered from (docs/json.md). Throughput is in the report's unit, latency in
/// µs, HTTP times in ms; a figure nobody measured is absent (never 0).
public struct ReportDocument: Encodable, Sendable {
    /// A summary over repetitions.
    public struct Figure: Encodable, Sendable {
        public var n: Int
        public var mean, median, min, max: Double
        public var stddev, cv, ci95Low, ci95High: Double?
        /// The interval was cut at zero (docs/statistics.md).
        public var clamped: Bool

        enum CodingKeys: String, CodingKey {
            case n, mean, median, min, max, stddev, cv, clamped
            case ci95Low = "ci95_low", ci95High = "ci95_high"
        }

        init?(_ s: Summary?, factor: Double = 1) {
            guard let s else { return nil }
            n = s.n
            mean = s.mean * factor; median = s.median * factor; min = s.min * factor; max = s.max * factor
            stddev = s.stddev.map { $0 * factor }
            cv = s.coefficientOfVariation
            ci95Low = s.confidenceInterval.map { $0.low * factor }
            ci95High = s.confidenceInterval.map { $0.high * factor }
            clamped = s.clampedAtFloor
        }
    }

    /// A cell's measured figure with its failures.
    public struct Measured: Encodable, Sendable {
        public var figure: Figure?
        public var unit: String
        public var failed: Int

        init?(_ c: CellStatistics?, factor: Double, unit: String) {
            guard let c else { return nil }
            figure = Figure(c.summary, factor: factor)
            self.unit = unit
            failed = c.failed
        }
    }

    public struct Setup: Encodable, Sendable {
        public var direction: String?
        public var streams: Int?
        public var messageSize: Int?
        public var udpRateBytesPerSecond: Double?
        public var httpSize: Int?

        enum CodingKeys: String, CodingKey {
            case direction, streams
            case messageSize = "message_size", udpRateBytesPerSecond = "udp_rate_bytes_per_second", httpSize = "http_size"
        }

        init(_ s: TestSetup) {
            direction = s.direction; streams = s.streams; messageSize = s.messageSize
            udpRateBytesPerSecond = s.udpRate; httpSize = s.httpSize
        }
    }

    public struct Cell: Encodable, Sendable {
        public var provider, providerName, type: String
        public var region, placement: String?
        public var path: String
        public var test: String?
        public var setup: Setup?

        enum CodingKeys: String, CodingKey {
            case provider, type, region, placement, path, test, setup
            case providerName = "provider_name"
        }

        init(_ c: CellIdentity, providerName: String, test: Bool) {
            provider = c.provider; self.providerName = providerName; type = c.type
            region = c.region; placement = c.placement; path = c.path
            self.test = test ? c.test : nil
            setup = c.setup.isEmpty ? nil : Setup(c.setup)
        }
    }

    public struct Price: Encodable, Sendable {
        public var amount, currency, status, source, asOf: String
        public var region: String?
        enum CodingKeys: String, CodingKey { case amount, currency, status, source, region; case asOf = "as_of" }
        init(_ p: ReportModel.RowPrice) {
            amount = Money.plain(p.money.amount); currency = p.money.currency; status = p.status; source = p.source
            asOf = p.asOf; region = p.region
        }
    }

    public struct HostRow: Encodable, Sendable {
        public var cell: Cell
        public var throughput, latency: Measured?
        public var price: Price?
        public var priceMissing: String?
        public var throughputPerPrice: Double?
        enum CodingKeys: String, CodingKey {
            case cell, throughput, latency, price
            case priceMissing = "price_missing", throughputPerPrice = "throughput_per_price"
        }
    }

    public struct Penalty: Encodable, Sendable {
        public var percent: Double
        public var ci95Low, ci95High: Double?
        public var method: String
        public var n: Int
        enum CodingKeys: String, CodingKey { case percent, method, n; case ci95Low = "ci95_low", ci95High = "ci95_high" }
        init?(_ p: OverlayPenalty?) {
            guard let p else { return nil }
            percent = p.percent; ci95Low = p.interval?.low; ci95High = p.interval?.high; method = p.method.rawValue; n = p.n
        }
    }

    public struct OverlayRow: Encodable, Sendable {
        public var cell: Cell
        public var throughput, latency: Measured?
        public var throughputVsHost, latencyVsHost: Penalty?
        enum CodingKeys: String, CodingKey {
            case cell, throughput, latency
            case throughputVsHost = "throughput_vs_host", latencyVsHost = "latency_vs_host"
        }
    }

    public struct TestRow: Encodable, Sendable {
        public var cell: Cell
        public var value: Measured?
        /// Figures from `detail`, by the names of `DetailFigures.Figure` (`rtt_p99_us`, `loss_pct`, …).
        public var figures: [String: Figure]
        public var highestRateUnder1PercentLoss: Double?
        enum CodingKeys: String, CodingKey {
            case cell, value, figures
            case highestRateUnder1PercentLoss = "highest_rate_under_1pct_loss"
        }
    }

    public struct Section: Encodable, Sendable {
        public var test: String
        public var rows: [TestRow]
    }

    public struct Ranked: Encodable, Sendable {
        public var rank: Int?
        public var cell: Cell
        public var throughput: Double?
        public var priceConverted: String?
        public var throughputPerPrice: Double?
        public var missingReason: String?
        enum CodingKeys: String, CodingKey {
            case rank, cell, throughput
            case priceConverted = "price_converted", throughputPerPrice = "throughput_per_price", missingReason = "missing_reason"
        }
    }

    public struct Timeline: Encodable, Sendable {
        public var cell: Cell
        public var record: String
        public var pair: String
        public var repetition: Int
        public var event: String
        public var lowestShareOfMedian: Double
        public var startsSeconds: [Double]
        public var rates: [Double]
        enum CodingKeys: String, CodingKey {
            case cell, record, pair, repetition, event, rates
            case lowestShareOfMedian = "lowest_share_of_median", startsSeconds = "starts_seconds"
        }
    }

    public struct Run: Encodable, Sendable {
        public var label, runID, firstTime, lastTime: String
        public var records, failed: Int
        enum CodingKeys: String, CodingKey {
            case label, records, failed
            case runID = "run_id", firstTime = "first_time", lastTime = "last_time"
        }
    }

    /// A group's steps (`GroupSection`), throughput in the report's unit.
    public struct Group: Encodable, Sendable {
        public var name, shape, provider, type, stepOf: String
        public var region, hub, middle: String?
        public var external: Bool
        public var clients: [String]
        public var steps: [GroupStep]
        public var direct: GroupStep?
        public var ceiling: Ceiling?

        enum CodingKeys: String, CodingKey {
            case name, shape, provider, type, region, hub, middle, external, clients, steps, direct, ceiling
            case stepOf = "step_of"
        }
    }

    public struct GroupStep: Encodable, Sendable {
        public var step: Int
        public var aggregate: Figure?
        public var failed: Int
        public var flows: [Double]
        public var fairness: Double?
        public var landed: [Double]
        public var cpu: [HostCPU]

        init(_ r: GroupStepRow, factor: Double) {
            step = r.step
            aggregate = Figure(r.aggregate, factor: factor)
            failed = r.failed
            flows = r.flows.map { $0 * factor }
            fairness = r.fairness
            landed = r.landed
            cpu = r.cpu.map { HostCPU(host: $0.host, busyPercent: $0.busyPercent) }
        }
    }

    public struct HostCPU: Encodable, Sendable {
        public var host: String
        public var busyPercent: Double
        enum CodingKeys: String, CodingKey { case host, busyPercent = "busy_percent" }
    }

    public struct Ceiling: Encodable, Sendable {
        public var fromStep: Int
        public var value: Double
        public var host: String?
        public var why: String
        enum CodingKeys: String, CodingKey { case value, host, why, fromStep = "from_step" }
    }

    public var schema = "cloudbench-report/1"
    public var title: String
    public var currency: String
    public var throughputUnit: String
    public var records, failed, unusable, duplicates: Int
    public var newestRecordTime: String?
    public var runs: [Run]
    public var hosts: [HostRow]
    public var overlays: [OverlayRow]
    public var tests: [Section]
    public var ranking: [Ranked]
    public var timelines: [Timeline]
    public var groups: [Group]
    public var warnings: [String]

    enum CodingKeys: String, CodingKey {
        case schema, title, currency, records, failed, unusable, duplicates, runs, hosts, overlays, tests, ranking, timelines, groups, warnings
        case throughputUnit = "throughput_unit", newestRecordTime = "newest_record_time"
    }

    public init(_ m: ReportModel) {
        let f = m.options.unit.factor, unit = m.options.unit.rawValue
        title = m.title
        currency = m.options.currency
        throughputUnit = unit
        records = m.footer.records; failed = m.footer.failed; unusable = m.footer.unusable; duplicates = m.footer.duplicates
        newestRecordTime = m.footer.newestRecordTime
        runs = m.footer.runs.map { Run(label: $0.label, runID: $0.runID, firstTime: $0.firstTime, lastTime: $0.lastTime,
                                      records: $0.records, failed: $0.failed) }
        hosts = m.providers.flatMap { s in
            s.rows.map { r in
                HostRow(cell: Cell(r.key.cell, providerName: s.displayName, test: false),
                        throughput: Measured(r.throughput, factor: f, unit: unit), latency: Measured(r.latency, factor: 1, unit: "µs"),
                        price: r.price.map(Price.init), priceMissing: r.priceMissing, throughputPerPrice: r.throughputPerPrice)
            }
        }
        overlays = m.overlays.map { o in
            OverlayRow(cell: Cell(o.key.cell, providerName: o.providerName, test: false),
                       throughput: Measured(o.throughput, factor: f, unit: unit), latency: Measured(o.latency, factor: 1, unit: "µs"),
                       throughputVsHost: Penalty(o.throughputVsHost), latencyVsHost: Penalty(o.latencyVsHost))
        }
        tests = m.tests.map { s in
            Section(test: s.test, rows: s.rows.map { r in
                let rate = r.cell.unit == "MB/s"
                var figures: [String: Figure] = [:]
                for (k, v) in r.figures { figures[k.rawValue] = Figure(v) }
                return TestRow(cell: Cell(r.cell.key, providerName: r.providerName, test: true),
                               value: Measured(r.cell, factor: rate ? f : 1, unit: rate ? unit : (r.cell.unit == "us" ? "µs" : r.cell.unit)),
                               figures: figures, highestRateUnder1PercentLoss: r.highestRateUnder1PercentLoss)
            })
        }
        ranking = m.ranking.map { r in
            Ranked(rank: r.rank, cell: Cell(r.key.cell, providerName: r.providerName, test: false),
                   throughput: r.throughput.map { $0.mean * f }, priceConverted: r.converted.map { Money.plain($0.amount) },
                   throughputPerPrice: r.throughputPerPrice, missingReason: r.missingReason)
        }
        timelines = m.timelines.map { t in
            Timeline(cell: Cell(t.timeline.cell, providerName: t.providerName, test: true), record: t.timeline.recordID,
                     pair: t.timeline.pair, repetition: t.timeline.repetition, event: t.timeline.event.rawValue,
                     lowestShareOfMedian: t.timeline.lowestShare, startsSeconds: t.timeline.starts, rates: t.timeline.rates.map { $0 * f })
        }
        groups = m.groups.map { g in
            Group(name: g.name, shape: g.shape, provider: g.provider, type: g.type, stepOf: g.stepOf, region: g.region, hub: g.hub,
                  middle: g.middle, external: g.external, clients: g.clients, steps: g.steps.map { GroupStep($0, factor: f) },
                  direct: g.direct.map { GroupStep($0, factor: f) },
                  ceiling: g.ceiling.map { Ceiling(fromStep: $0.fromStep, value: $0.value * f, host: $0.host, why: $0.why) })
        }
        warnings = m.footer.missingPrices + m.footer.inputWarnings
    }
}
