import Foundation

/// One measurement (or one failed attempt) of one cell: a pair, a path, a test, a repetition.
///
/// Written as one JSON object per line (`results/RUN_ID.jsonl`, see docs/results.md) and never
/// rewritten; a later run adds new lines.
public struct ResultRecord: Hashable, Sendable, Codable {
    public static let currentSchema = "cloudbench-result/1"

    public enum Status: String, Sendable, Codable {
        case ok
        case failed
    }

    public var schema: String
    /// Unique per record; loading several files counts each id once.
    public var id: String
    public var runID: String
    /// ISO 8601 UTC time the measurement ended.
    public var time: String
    public var pair: String
    public var provider: String
    public var type: String
    public var region: String
    /// Where the two instances sat relative to each other (`same-region`, `same-az`, `cross-az`, …).
    public var placement: String?
    /// `host`, `vxlan`, `udp` or an external overlay's name.
    public var path: String
    /// `tcp_bw`, `tcp_lat`, `udp_bw` or `http`.
    public var test: String
    public var repetition: Int
    public var status: Status
    public var error: String?
    /// The headline figure in `unit`: `MB/s` (10^6 bytes/s) for bandwidth, `us` for latency.
    public var value: Double?
    public var unit: String?
    /// The price the run was made under (from the inventory or catalog), kept with the record
    /// so a report of old results does not depend on today's catalog.
    public var price: Money?
    /// Where the figure came from: `cloudbench-agent 0.1.0`, `qperf`, `iperf3`, `reference-csv`.
    public var source: String?
    /// The full measurement as the measuring tool reported it. A record read from a file keeps
    /// it as text and decodes it on each access; to read a few keys, `detailView` is much cheaper.
    public var detail: JSONValue? {
        get { storedDetail?.value }
        set { storedDetail = newValue.map(RecordDetail.init) }
    }

    /// `detail` read in place: lookups without decoding the whole value.
    public var detailView: JSONView? { storedDetail?.view }

    var storedDetail: RecordDetail?

    public init(id: String, runID: String, time: String, pair: String, provider: String, type: String, region: String,
                placement: String? = nil, path: String, test: String, repetition: Int, status: Status, error: String? = nil,
                value: Double? = nil, unit: String? = nil, price: Money? = nil, source: String? = nil, detail: JSONValue? = nil) {
        self.schema = ResultRecord.currentSchema
        self.id = id
        self.runID = runID
        self.time = time
        self.pair = pair
        self.provider = provider
        self.type = type
        self.region = region
        self.placement = placement
        self.path = path
        self.test = test
        self.repetition = repetition
        self.status = status
        self.error = error
        self.value = value
        self.unit = unit
        self.price = price
        self.source = source
        self.storedDetail = detail.map(RecordDetail.init)
    }

    /// The id cloudbench gives a cell's record: stable for one run, pair, path, test and repetition.
    public static func makeID(runID: String, pair: String, path: String, test: String, repetition: Int, attempt: Int = 1) -> String {
        "\(runID)/\(pair)/\(path)/\(test)/\(repetition)" + (attempt > 1 ? "#\(attempt)" : "")
    }

    enum CodingKeys: String, CodingKey {
        case schema, id, runID = "run_id", time, pair, provider, type, region, placement, path, test, repetition
        case status, error, value, unit, price, source, storedDetail = "detail"
    }

    /// The record as one line of JSON with sorted keys (no newline).
    public func jsonLine() throws -> String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try enc.encode(self), as: UTF8.self)
    }
}

extension Money {
    enum CodingKeys: String, CodingKey { case amount, currency }

    /// Encoded as `{"amount": "0.1207", "currency": "EUR"}`: the amount as a string keeps it exact.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(amountText, forKey: .amount)
        try c.encode(currency, forKey: .currency)
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let text = try c.decode(String.self, forKey: .amount)
        guard let d = Money.decimal(text) else {
            throw DecodingError.dataCorruptedError(forKey: .amount, in: c, debugDescription: "not a decimal: \(text)")
        }
        self.init(d, try c.decode(String.self, forKey: .currency))
    }
}
