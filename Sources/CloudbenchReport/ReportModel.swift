import CloudbenchCore

/// Everything a report shows, computed once; the renderers only format it.
public struct ReportModel: Sendable {
    public var title: String
    public var options: ReportOptions
    public var providers: [ProviderSection]
    public var overlays: [OverlayRow]
    public var ranking: [RankingRow]
    public var footer: Footer
    /// Cells that ran on burst credit (`BurstReport`), shown under the throughput tables.
    public var bursts: [BurstCell] = []

    /// One provider's table of `host` rows.
    public struct ProviderSection: Sendable {
        public var provider: String
        public var displayName: String
        public var rows: [HostRow]
    }

    /// A price as used for a row, with where it came from.
    public struct RowPrice: Hashable, Sendable {
        public enum Origin: Hashable, Sendable {
            /// From the inventory, for this pair.
            case override(pair: String)
            /// Snapshot kept in a result record.
            case record(runID: String)
            /// From providers/<provider>.yaml (or its fetched prices).
            case catalog
        }
        public var money: Money
        /// `quoted`, `reconstructed`, `fetched`, `inventory` or `recorded`.
        public var status: String
        public var source: String
        /// `YYYY-MM-DD`.
        public var asOf: String
        public var origin: Origin
    }

    /// One instance type (at one placement) on the instances' own network.
    public struct HostRow: Sendable {
        public var key: RowKey
        public var label: String
        public var throughput: CellStatistics?
        public var latency: CellStatistics?
        public var price: RowPrice?
        /// Throughput in the report's unit per 1 unit of the price's own currency per hour.
        public var throughputPerPrice: Double?
    }

    /// One path other than `host` on one instance type.
    public struct OverlayRow: Sendable {
        public var key: RowKey
        public var label: String
        public var providerName: String
        public var path: String
        public var throughput: CellStatistics?
        public var latency: CellStatistics?
        /// Throughput change versus `host` on the same row, in %.
        public var throughputVsHost: OverlayPenalty?
        /// Latency change versus `host` on the same row, in %.
        public var latencyVsHost: OverlayPenalty?
        /// True when there is no host measurement to compare with.
        public var hostMissing: Bool
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
        /// Why there is no figure: no price, no rate for the currency, no throughput.
        public var missingReason: String?
    }

    public struct RunLine: Hashable, Sendable {
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
        public var conversions: [ExchangeRates.Conversion]
        /// Problems found while loading (skipped lines), passed through to the report.
        public var inputWarnings: [String]
        public var duplicates: Int
    }
}
