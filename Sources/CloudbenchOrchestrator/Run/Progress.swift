import CloudbenchCore
import Foundation

/// Tells the person running `compare` what is happening.
public protocol ProgressSink: Sendable {
    /// How many cells will run (fewer than the plan's when resuming or when hosts failed preflight).
    func planned(cells: Int) async
    func message(_ line: String) async
    func started(_ job: CellJob) async
    func finished(_ job: CellJob, _ outcome: CellOutcome) async
}

/// Counts cells for the bar and the ETA.
struct ProgressCounts {
    var total: Int
    var done = 0
    var failed = 0
    var skipped = 0
    var startTime = Date()

    var eta: String {
        guard done > 0, done < total else { return "" }
        return " " + etaText()
    }

    /// `ETA 1m 20s` from the mean time per finished cell so far (parallel pairs included);
    /// `ETA 0s` when every cell is done, `ETA unknown` before the first one.
    func etaText(now: Date = Date()) -> String {
        guard done < total else { return "ETA 0s" }
        guard done > 0 else { return "ETA unknown" }
        let per = now.timeIntervalSince(startTime) / Double(done)
        return "ETA " + formatDuration(seconds: per * Double(total - done))
    }

    /// A log line for a finished cell: `[3/12, ETA 1m 20s] PAIR PATH TEST #N: RESULT`.
    func logLine(_ cell: Cell, _ outcome: CellOutcome, now: Date = Date()) -> String {
        "[\(done)/\(total), \(etaText(now: now))] \(cell): \(ProgressCounts.describe(outcome))"
    }

    static func describe(_ outcome: CellOutcome) -> String {
        if let s = outcome.skipped { return "skipped: \(s)" }
        guard let r = outcome.record else { return "no record" }
        if r.status == .failed { return "FAILED: \(r.error ?? "unknown reason")" }
        let v = r.value.map { $0 >= 100 ? String(format: "%.0f", $0) : String(format: "%.3g", $0) } ?? "n/a"
        return "\(v) \(r.unit ?? "")"
    }
}

/// Plain log lines on stderr, for logs and CI (not a terminal); every cell's line carries the ETA.
public actor LogProgress: ProgressSink {
    private var counts: ProgressCounts
    private let quiet: Bool

    public init(totalCells: Int, quiet: Bool) {
        counts = ProgressCounts(total: totalCells)
        self.quiet = quiet
    }

    public func planned(cells: Int) {
        counts.total = cells
        counts.startTime = Date()
    }
    public func message(_ line: String) { if !quiet { emit(line) } }
    public func started(_ job: CellJob) {}

    public func finished(_ job: CellJob, _ outcome: CellOutcome) {
        counts.done += 1
        if outcome.skipped != nil { counts.skipped += 1 } else if outcome.record?.status == .failed { counts.failed += 1 }
        let failed = outcome.record?.status == .failed
        if quiet && !failed { return }
        emit(counts.logLine(job.cell, outcome))
    }

    private func emit(_ line: String) { FileHandle.standardError.write(Data((line + "\n").utf8)) }
}

/// A live display on a terminal: one line per running pair and an overall bar.
public actor TerminalProgress: ProgressSink {
    private var counts: ProgressCounts
    private var running: [String: String] = [:]
    private var drawnLines = 0

    public init(totalCells: Int) { counts = ProgressCounts(total: totalCells) }

    public func planned(cells: Int) {
        counts.total = cells
        counts.startTime = Date()
    }

    public func message(_ line: String) {
        clear()
        write(line + "\n")
        draw()
    }

    public func started(_ job: CellJob) {
        running[job.pair.name] = "\(job.cell.path.name) \(job.cell.test.rawValue) #\(job.cell.repetition)"
        clear(); draw()
    }

    public func finished(_ job: CellJob, _ outcome: CellOutcome) {
        counts.done += 1
        if outcome.skipped != nil { counts.skipped += 1 } else if outcome.record?.status == .failed { counts.failed += 1 }
        running[job.pair.name] = nil
        clear()
        write("  \(job.cell): \(ProgressCounts.describe(outcome))\n")
        draw()
    }

    private func draw() {
        var lines = running.keys.sorted().map { "  ▸ \($0): \(running[$0]!)" }
        let width = 30
        let filled = counts.total == 0 ? width : width * counts.done / counts.total
        lines.append("[\(String(repeating: "#", count: filled))\(String(repeating: ".", count: width - filled))] "
            + "\(counts.done)/\(counts.total) cells, \(counts.failed) failed" + (counts.skipped > 0 ? ", \(counts.skipped) skipped" : "") + counts.eta)
        write(lines.joined(separator: "\n") + "\n")
        drawnLines = lines.count
    }

    private func clear() {
        if drawnLines > 0 { write(String(repeating: "\u{1B}[1A\u{1B}[2K", count: drawnLines)) }
        drawnLines = 0
    }

    private func write(_ s: String) { FileHandle.standardError.write(Data(s.utf8)) }
}
