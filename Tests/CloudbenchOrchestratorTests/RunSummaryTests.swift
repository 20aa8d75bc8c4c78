import Foundation
import Testing
@testable import CloudbenchCore
@testable import CloudbenchOrchestrator

/// The overhead line `compare` prints and records (issue 11's definitions).
@Suite("Run summary")
struct RunSummaryTests {
    @Test("ideal, wall and overhead as the issue defines them")
    func line() {
        // 44 cells of 1 s + 3 s on two lanes: 88 s ideal; 91.9 s of wall is 4.4 % overhead.
        let s = RunSummary(idealSeconds: 44 * 4 / 2, wallSeconds: 91.9, cells: 44, lanes: 2)
        #expect(s.line == "run summary: ideal 88.0 s, wall 91.9 s, overhead 4.4 %")
        #expect(s.json() == #"{"ideal_s":88.000,"wall_s":91.900,"cells":44,"lanes":2,"overhead_pct":4.43}"# + "\n")
    }

    @Test("measuring past the configured warm-up and duration is named beside the overhead, from the records")
    func pastConfigured() throws {
        let s = RunSummary(idealSeconds: 117, wallSeconds: 171.5, cells: 162, lanes: 3, pastConfiguredSeconds: 9.14)
        #expect(s.line == "run summary: ideal 117.0 s, wall 171.5 s, overhead 46.6 % (of it, measuring past the configured warm-up and duration: 9.1 s)")
        #expect(s.json().contains(#""measuring_past_configured_s":9.140"#))
        // Below 0.05 s per lane it says nothing more.
        #expect(!RunSummary(idealSeconds: 10, wallSeconds: 11, cells: 2, lanes: 1, pastConfiguredSeconds: 0.01).line.contains("measuring past"))
        func record(_ detail: String) throws -> ResultRecord {
            ResultRecord(id: "r/p/host/tcp_bw/1", runID: "r", time: "2026-12-01T00:00:00Z", pair: "p", provider: "aws", type: "t",
                         region: "x", path: "host", test: "tcp_bw", repetition: 1, status: .ok, value: 1, unit: "MB/s",
                         detail: try JSONValue.parse(detail))
        }
        #expect(abs(RunSummary.pastConfigured(try record(#"{"warmup_s": 0.5, "warmup_taken_s": 0.77}"#)) - 0.27) < 1e-9)
        #expect(RunSummary.pastConfigured(try record(#"{"warmup_s": 0.5, "warmup_taken_s": 0.4}"#)) == 0)
        #expect(RunSummary.pastConfigured(try record(#"{"warmup_s": 0.5}"#)) == 0)
        #expect(RunSummary.pastConfigured(try record(#"{"warmup_s": 0, "warmup_taken_s": 1e12}"#)) == 3600)
        // A latency cell that went on for its minimum round trips, and a bandwidth cell whose window was a little short.
        #expect(abs(RunSummary.pastConfigured(try record(#"{"warmup_s": 0.5, "duration_s": 1, "measured_s": 4.18}"#)) - 3.18) < 1e-9)
        #expect(abs(RunSummary.pastConfigured(try record(#"{"warmup_s": 0.5, "warmup_taken_s": 0.77, "duration_s": 1, "measured_s": 0.9}"#)) - 0.27) < 1e-9)
    }

    @Test("a run that measured nothing has no overhead figure")
    func nothingRun() {
        let s = RunSummary(idealSeconds: 0, wallSeconds: 2.5, cells: 0, lanes: 1)
        #expect(s.overheadPercent == nil)
        #expect(s.line == "run summary: ideal 0.0 s, wall 2.5 s, overhead n/a (no cell run)")
        #expect(!s.json().contains("overhead"))
    }
}
