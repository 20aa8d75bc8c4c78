/// One figure read from another tool's output, before it becomes a `ResultRecord`.
public struct ImportedMeasurement: Hashable, Sendable {
    /// `tcp_bw` or `tcp_lat`.
    public var test: String
    public var status: ResultRecord.Status
    /// In `unit`: MB/s for bandwidth, µs for latency.
    public var value: Double?
    public var unit: String
    public var error: String?
    /// When the tool said when it ran (iperf3 does; qperf does not).
    public var time: String?
    /// What the tool printed for this figure, kept as the record's `detail`.
    public var detail: JSONValue

    public init(test: String, status: ResultRecord.Status, value: Double?, unit: String, error: String? = nil,
                time: String? = nil, detail: JSONValue) {
        self.test = test
        self.status = status
        self.value = value
        self.unit = unit
        self.error = error
        self.time = time
        self.detail = detail
    }
}
