import CloudbenchCore
import Foundation

/// The records of one run, appended to `results/RUN_ID.jsonl` one at a time, each on disk
/// (fsync) before the next cell starts.
public actor RunRecords {
    public let path: String
    private let writer: ResultWriter
    public private(set) var written: [ResultRecord] = []

    public init(path: String) throws {
        self.path = path
        writer = try ResultWriter(path: path)
    }

    public func append(_ record: ResultRecord) throws {
        try writer.append(record)
        written.append(record)
    }
}

/// What an earlier, interrupted run of the same id already has: cells with an `ok` record are
/// not run again, and a retried cell's record gets the next attempt number.
public struct ResumeState: Sendable {
    public private(set) var done: Set<String> = []
    public private(set) var attempts: [String: Int] = [:]
    public private(set) var records: [ResultRecord] = []

    public init() {}

    public init(records: [ResultRecord]) {
        self.records = records
        for r in records {
            let key = Self.key(of: r)
            attempts[key, default: 0] += 1
            if r.status == .ok { done.insert(key) }
        }
    }

    public static func key(pair: String, path: String, test: String, repetition: Int) -> String {
        "\(pair)/\(path)/\(test)/\(repetition)"
    }

    /// The key of the cell `r` belongs to, its variant (direction, streams, rate search) read from its `detail`.
    public static func key(of r: ResultRecord) -> String {
        key(pair: r.pair, path: r.path, test: r.test + CellVariant.of(test: r.test, detail: r.detail).idSuffix, repetition: r.repetition)
    }

    public func isDone(_ cell: Cell) -> Bool {
        done.contains(Self.key(pair: cell.pair, path: cell.path.name, test: cell.testKey, repetition: cell.repetition))
    }

    public func nextAttempt(_ cell: Cell) -> Int {
        (attempts[Self.key(pair: cell.pair, path: cell.path.name, test: cell.testKey, repetition: cell.repetition)] ?? 0) + 1
    }
}

/// `NAME-YYYYMMDD-HHMMSS` in UTC.
public func makeRunID(name: String, at date: Date = Date()) -> String {
    var cal = Calendar(identifier: .gregorian)
    cal.timeZone = TimeZone(identifier: "UTC")!
    let c = cal.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
    func two(_ n: Int?) -> String { String(format: "%02d", n ?? 0) }
    return "\(name)-\(c.year ?? 0)\(two(c.month))\(two(c.day))-\(two(c.hour))\(two(c.minute))\(two(c.second))"
}
