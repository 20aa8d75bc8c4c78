import CloudbenchCore

/// How a report is drawn: currency of the ranking, throughput unit, title and price overrides.
public struct ReportOptions: Sendable {
    /// Throughput is stored in MB/s (10^6 bytes/s); a report may show Mbit/s instead.
    public enum ThroughputUnit: String, Sendable, CaseIterable {
        case megabytes = "MB/s"
        case megabits = "Mbit/s"

        /// Multiplier from MB/s.
        public var factor: Double { self == .megabytes ? 1 : 8 }
    }

    public var currency: String
    public var unit: ThroughputUnit
    /// The report's heading; nil gives a generic one.
    public var title: String?
    /// Per-pair prices (from an inventory) that take precedence over the records' and the catalog's.
    public var priceOverrides: [String: HourlyPrice]
    /// A price older than this, relative to the newest record in the input, gets a warning line.
    public var staleAfterDays: Int
    /// Link each burst cell to its timeline SVG (written beside the report by the caller).
    public var linksBurstTimelines = false

    public init(currency: String = "USD", unit: ThroughputUnit = .megabytes, title: String? = nil,
                priceOverrides: [String: HourlyPrice] = [:], staleAfterDays: Int = 90) {
        self.currency = currency
        self.unit = unit
        self.title = title
        self.priceOverrides = priceOverrides
        self.staleAfterDays = staleAfterDays
    }
}
