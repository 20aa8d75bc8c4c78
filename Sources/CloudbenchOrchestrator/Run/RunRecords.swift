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

/// A run id no other run in `directory` has: `makeRunID`, or with `-2`, `-3`… when another run
/// started in the same second. Claimed by creating its results file exclusively (`O_EXCL`), so
/// two processes starting at once cannot both take it.
public func claimRunID(name: String, directory: String, at date: Date = Date()) throws -> String {
    do { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
    catch { throw FileError(directory, "cannot create the results folder: \(error.localizedDescription)") }
    let base = makeRunID(name: name, at: date)
    for n in 1...1000 {
        let id = n == 1 ? base : "\(base)-\(n)"
        let fd = open("\(directory)/\(id).jsonl", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        if fd >= 0 {
            close(fd)
            return id
        }
        guard errno == EEXIST else {
            throw FileError("\(directory)/\(id).jsonl", "cannot create: \(String(cString: strerror(errno)))")
        }
    }
    throw FileError(directory, "a thousand runs named \(base) already; wait a second and start again")
}

/// `NAME-YYYYMMDD-HHMMSS` in UTC.
public func makeRunID(name: String, at date: Date = Date()) -> String {
    var cal = Calendar(identifier: .gregorian)
    cal.timeZone = TimeZone(identifier: "UTC")!
    let c = cal.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
    func two(_ n: Int?) -> String { String(format: "%02d", n ?? 0) }
    return "\(name)-\(c.year ?? 0)\(two(c.month))\(two(c.day))-\(two(c.hour))\(two(c.minute))\(two(c.second))"
}
