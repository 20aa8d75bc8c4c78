import CloudbenchCore

/// Everything a report shows, computed once; the renderers only format it.
public struct ReportModel: Sendable {
    public var title: String
    public var options: ReportOptions
    public var providers: [ProviderSection]
    public var overlays: [OverlayRow]
    /// Cells of tests the report has no section for, one row each.
    public var others: [OtherRow]
    /// A section per measured test (`tcp_bw`, `tcp_lat`, `udp_bw`, `http`, in that order), only
    /// for tests with records.
    public var tests: [TestSection]
    /// `tcp_bw` cells whose per-second series shows a drop or a stall (one record each).
    public var timelines: [TimelineRow]
    public var ranking: [RankingRow]
    public var layout: Layout
    public var footer: Footer
    /// Cells that ran on burst credit (`BurstReport`), shown under the throughput tables.
    public var bursts: [BurstCell] = []
    /// What carried each path's packets (`DatapathReport`), when the records say.
    public var datapaths: [DatapathRow] = []
    /// Paths whose user-space tunnel dropped datagrams (`TunnelDropReport`).
    public var tunnelDrops: [TunnelDropRow] = []
    /// Cloud network limits the NIC's own counters name (`NICLimit`).
    public var nicLimits: [NICLimit] = []
    /// The inventory's groups (`GroupReport`): their records are kept out of every table above.
    public var groups: [GroupSection] = []

    /// Which columns tell rows apart. A knob every row shares is said once above the tables
    /// instead of in a column (`commonSetup`).
    public struct Layout: Sendable {
        /// Some row has a placement.
        public var placement: Bool
        /// Throughput rows differ in their knobs (streams, direction, message size).
        public var setup: Bool
        /// The knobs every throughput row shares, when they do.
        public var commonSetup: TestSetup?
        /// More than one run is merged into the report: rows say which.
        public var runs: Bool
    }

    /// One provider's table of `host` rows.
    public struct ProviderSection: Sendable {
        public var provider: String
        public var displayName: String
        public var rows: [HostRow]
    }

    /// The cells shown side by side in one row: the throughput and the latency of the same
    /// instances on the same path. Cells are grouped by `CellIdentity` alone; a row only pairs
    /// two of them (or shows one).
    public struct RowKey: Hashable, Sendable, Comparable {
        public var throughput: CellIdentity?
        public var latency: CellIdentity?

        /// The cell that names the row's instances and path.
        public var cell: CellIdentity { throughput ?? latency! }

        public static func < (a: RowKey, b: RowKey) -> Bool {
            let x = a.cell, y = b.cell
            if x != y { return x < y }
            return (a.latency.map { [$0] } ?? []).lexicographicallyPrecedes(b.latency.map { [$0] } ?? [])
        }
    }

    /// A price as used for a row, with where it came from.
    public struct RowPrice: Hashable, Sendable {
        public enum Origin: Hashable, Sendable {
            /// From the inventory, for this pair.
            case override(pair: String)
            /// Snapshot kept in a result record.
            case record(runID: String)
            /// From providers/<provider>.yaml (or its fetched prices), for the row's region or `any`.
            case catalog
        }
        public var money: Money
        /// `quoted`, `reconstructed`, `fetched`, `inventory` or `recorded`.
        public var status: String
        public var source: String
        /// `YYYY-MM-DD`.
        public var asOf: String
        public var origin: Origin
        /// The region the price is for (`any` for every region); nil when not known.
        public var region: String?
    }

    /// One instance type (in one region, at one placement, with one set of knobs) on the
    /// instances' own network.
    public struct HostRow: Sendable {
        public var key: RowKey
        public var label: String
        public var throughput: CellStatistics?
        public var latency: CellStatistics?
        public var price: RowPrice?
        /// Why there is no price, said in the row (e.g. `no price for westeurope`).
        public var priceMissing: String?
        /// Throughput in the report's unit per 1 unit of the price's own currency per hour.
        public var throughputPerPrice: Double?
        /// Labels (`r1`, `r2`, …) of the runs merged into this row; see `Footer.runs`.
        public var runs: [String]
    }

    /// One path other than `host` on one instance type.
    public struct OverlayRow: Sendable {
        public var key: RowKey
        public var label: String
        public var providerName: String
        public var path: String
        public var throughput: CellStatistics?
        public var latency: CellStatistics?
        /// Throughput change versus `host` on the same instances and knobs, in %.
        public var throughputVsHost: OverlayPenalty?
        /// Latency change versus `host` on the same instances and knobs, in %.
        public var latencyVsHost: OverlayPenalty?
        /// True when there is no host measurement to compare with.
        public var hostMissing: Bool
        public var runs: [String]
    }

    /// One cell of another test.
    public struct OtherRow: Sendable {
        public var cell: CellStatistics
        public var label: String
        public var providerName: String
        public var runs: [String]
    }

    /// Every cell of one test, with the figures read from its records' `detail`.
    public struct TestSection: Sendable {
        public var test: String
        public var rows: [TestRow]
        /// The `detail` figures some row carries, in column order.
        public var figures: [DetailFigures.Figure]
        /// `udp_bw`: some instances and path were measured at more than one offered rate.
        public var rateSweep: Bool
    }

    public struct TestRow: Sendable {
        public var cell: CellStatistics
        public var label: String
        public var providerName: String
        public var runs: [String]
        public var figures: DetailFigures.Figures
        /// `udp_bw`: the highest offered rate (bytes/s) on the same instances, path and knobs whose
        /// mean loss is under 1 %, when more than one rate was measured.
        public var highestRateUnder1PercentLoss: Double?
    }

    public struct TimelineRow: Sendable {
        public var timeline: DetailFigures.Timeline
        public var label: String
        public var providerName: String
    }

    /// One row of the cross-provider ranking, in the report's currency.
    public struct RankingRow: Sendable {
        public var rank: Int?
        public var key: RowKey
        public var providerName: String
        public var label: String
        public var throughput: Summary?
        public var price: RowPrice?
        public var converted: Money?
        public var conversion: ExchangeRates.Conversion?
        /// Throughput (report unit) per 1 unit of the report currency per hour.
        public var throughputPerPrice: Double?
        /// Why there is no figure: no price (and why), no rate for the currency, no throughput.
        public var missingReason: String?
    }

    public struct RunLine: Hashable, Sendable {
        /// `r1`, `r2`, … in order of first record.
        public var label: String
        public var runID: String
        public var records: Int
        public var failed: Int
        public var firstTime: String
        public var lastTime: String
    }

    public struct PriceLine: Hashable, Sendable {
        public var providerName: String
        public var label: String
        public var price: RowPrice
        /// Days between the price's date and the newest record; set when over the limit.
        public var staleDays: Int?
    }

    public struct Footer: Sendable {
        public var records: Int
        public var failed: Int
        /// `ok` records without a usable value (no value, or a unit that does not fit the test).
        public var unusable: Int
        public var newestRecordTime: String?
        public var runs: [RunLine]
        public var prices: [PriceLine]
        /// Rows without a price for their region, as sentences for the warnings.
        public var missingPrices: [String]
        public var conversions: [ExchangeRates.Conversion]
        /// Problems found while loading (skipped lines), passed through to the report.
        public var inputWarnings: [String]
        public var duplicates: Int
    }
}
