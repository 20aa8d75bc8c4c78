import Foundation

/// How much of a `compare` was measuring: the issue-11 figures.
///
/// ideal = Σ over the cells this invocation ran of (warm-up + duration) ÷ the lanes used
/// (min(`--parallel`, pairs)); wall = the whole `compare` (preflight, deploy, cells, clean-up,
/// report); overhead = (wall − ideal) ÷ ideal.
public struct RunSummary: Sendable, Equatable {
    public var idealSeconds: Double
    public var wallSeconds: Double
    public var cells: Int
    public var lanes: Int

    public init(idealSeconds: Double, wallSeconds: Double, cells: Int, lanes: Int) {
        self.idealSeconds = idealSeconds
        self.wallSeconds = wallSeconds
        self.cells = cells
        self.lanes = lanes
    }

    /// (wall − ideal) ÷ ideal as a percentage; nil when nothing was measured.
    public var overheadPercent: Double? {
        idealSeconds > 0 ? (wallSeconds - idealSeconds) / idealSeconds * 100 : nil
    }

    /// `run summary: ideal 88.0 s, wall 91.9 s, overhead 4.4 %`
    public var line: String {
        let o = overheadPercent.map { String(format: "%.1f %%", $0) } ?? "n/a (no cell run)"
        return String(format: "run summary: ideal %.1f s, wall %.1f s, overhead ", idealSeconds, wallSeconds) + o
    }

    /// The summary as one JSON object (`RESULTS-DIR/RUN_ID.summary.json`).
    public func json() -> String {
        var o: [String] = [
            "\"ideal_s\":" + String(format: "%.3f", idealSeconds),
            "\"wall_s\":" + String(format: "%.3f", wallSeconds),
            "\"cells\":\(cells)", "\"lanes\":\(lanes)",
        ]
        if let p = overheadPercent { o.append("\"overhead_pct\":" + String(format: "%.2f", p)) }
        return "{" + o.joined(separator: ",") + "}\n"
    }
}
