import CloudbenchCore
import Foundation

/// How much of a `compare` was measuring: the issue-11 figures.
///
/// ideal = Σ over the cells this invocation ran of (warm-up + duration) ÷ the lanes used
/// (min(`--parallel`, pairs)); wall = the whole `compare` (preflight, deploy, cells, clean-up,
/// report); overhead = (wall − ideal) ÷ ideal.
///
/// Part of the overhead is the measurement's own: a `tcp_bw` or `udp_bw` warm-up lasts until the
/// rate settles, at least the configured warm-up (`warmup_taken_s` on the record), and a
/// `tcp_lat` cell goes on past its duration for its minimum round trips (`measured_s`). That
/// part, per lane, is shown beside the overhead, so a user can tell it from SSH and set-up time.
public struct RunSummary: Sendable, Equatable {
    public var idealSeconds: Double
    public var wallSeconds: Double
    public var cells: Int
    public var lanes: Int
    /// Seconds per lane that cells measured past their configured warm-up and duration.
    public var pastConfiguredSeconds: Double

    public init(idealSeconds: Double, wallSeconds: Double, cells: Int, lanes: Int, pastConfiguredSeconds: Double = 0) {
        self.idealSeconds = idealSeconds
        self.wallSeconds = wallSeconds
        self.cells = cells
        self.lanes = lanes
        self.pastConfiguredSeconds = pastConfiguredSeconds
    }

    /// (wall − ideal) ÷ ideal as a percentage; nil when nothing was measured.
    public var overheadPercent: Double? {
        idealSeconds > 0 ? (wallSeconds - idealSeconds) / idealSeconds * 100 : nil
    }

    /// `run summary: ideal 88.0 s, wall 91.9 s, overhead 4.4 %`, and when cells measured past
    /// their configured time by 0.05 s or more per lane,
    /// `(of it, measuring past the configured warm-up and duration: 1.2 s)`.
    public var line: String {
        var o = overheadPercent.map { String(format: "%.1f %%", $0) } ?? "n/a (no cell run)"
        if overheadPercent != nil, pastConfiguredSeconds >= 0.05 {
            o += String(format: " (of it, measuring past the configured warm-up and duration: %.1f s)", pastConfiguredSeconds)
        }
        return String(format: "run summary: ideal %.1f s, wall %.1f s, overhead ", idealSeconds, wallSeconds) + o
    }

    /// Seconds a record's cell measured past its configured warm-up and duration: the warm-up
    /// taken beyond `warmup_s`, and `measured_s` beyond `duration_s` (0 without the figures;
    /// each part at most an hour).
    public static func pastConfigured(_ record: ResultRecord) -> Double {
        func excess(_ taken: String, _ configured: String) -> Double {
            guard let t = record.detail?[taken]?.double, let c = record.detail?[configured]?.double,
                  t.isFinite, c.isFinite else { return 0 }
            return min(max(0, t - c), 3600)
        }
        return excess("warmup_taken_s", "warmup_s") + excess("measured_s", "duration_s")
    }

    /// The summary as one JSON object (`RESULTS-DIR/RUN_ID.summary.json`).
    public func json() -> String {
        var o: [String] = [
            "\"ideal_s\":" + String(format: "%.3f", idealSeconds),
            "\"wall_s\":" + String(format: "%.3f", wallSeconds),
            "\"cells\":\(cells)", "\"lanes\":\(lanes)",
        ]
        if let p = overheadPercent { o.append("\"overhead_pct\":" + String(format: "%.2f", p)) }
        if pastConfiguredSeconds > 0 { o.append("\"measuring_past_configured_s\":" + String(format: "%.3f", pastConfiguredSeconds)) }
        return "{" + o.joined(separator: ",") + "}\n"
    }
}
