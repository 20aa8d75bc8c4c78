import Foundation

/// What another tool's output does not say and the user gives on the command line: which
/// instances, which path, under which price.
public struct ImportContext: Hashable, Sendable {
    public var pair: String
    public var provider: String
    public var type: String
    public var region: String
    public var placement: String?
    public var path: String
    public var price: Money?
    /// nil: `import-<content hash>`, so each imported file is its own run.
    public var runID: String?
    /// ISO 8601; nil: the tool's own time when it prints one, else the file's modification time.
    public var time: String?

    public init(pair: String, provider: String, type: String, region: String = "unspecified", placement: String? = nil,
                path: String = "host", price: Money? = nil, runID: String? = nil, time: String? = nil) {
        self.pair = pair
        self.provider = provider
        self.type = type
        self.region = region
        self.placement = placement
        self.path = path
        self.price = price
        self.runID = runID
        self.time = time
    }
}

/// Turns measurements read from qperf or iperf3 output into result records.
public enum Importer {
    /// Records for `measurements`, numbered by repetition per test in file order.
    ///
    /// Ids are `RUN/PAIR/PATH/TEST/REP@HASH` where HASH is a hash of the file's bytes: importing
    /// the same file twice gives the same ids (so the second copy is ignored when loading),
    /// while two different files imported under one `--run-id` never collide.
    public static func records(_ measurements: [ImportedMeasurement], context: ImportContext, content: [UInt8],
                               source: String, fallbackTime: String) -> [ResultRecord] {
        let hash = contentHash(content)
        let runID = context.runID ?? "import-\(hash)"
        var reps: [String: Int] = [:]
        return measurements.map { m in
            let rep = (reps[m.test] ?? 0) + 1
            reps[m.test] = rep
            let id = ResultRecord.makeID(runID: runID, pair: context.pair, path: context.path, test: m.test, repetition: rep) + "@\(hash)"
            return ResultRecord(id: id, runID: runID, time: context.time ?? m.time ?? fallbackTime, pair: context.pair,
                                provider: context.provider, type: context.type, region: context.region,
                                placement: context.placement, path: context.path, test: m.test, repetition: rep,
                                status: m.status, error: m.error, value: m.value, unit: m.unit, price: context.price,
                                source: source, detail: m.detail)
        }
    }

    /// FNV-1a 64 of the bytes, as 12 hex digits: stable across runs and machines.
    public static func contentHash(_ bytes: [UInt8]) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        let hex = String(h, radix: 16)
        return String((String(repeating: "0", count: 16 - hex.count) + hex).prefix(12))
    }

    /// `2015-06-01T00:00:00Z` for a time in seconds since 1970.
    public static func isoTime(_ seconds: Double) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        f.timeZone = TimeZone(identifier: "UTC")
        return f.string(from: Date(timeIntervalSince1970: seconds.rounded(.down)))
    }

    /// Accepts `2015-06-01` or a full ISO 8601 UTC time; nil for anything else.
    public static func normaliseTime(_ text: String) -> String? {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        if let d = f.date(from: text) { return isoTime(d.timeIntervalSince1970) }
        f.formatOptions = [.withFullDate]
        if let d = f.date(from: text) { return isoTime(d.timeIntervalSince1970) }
        return nil
    }
}
