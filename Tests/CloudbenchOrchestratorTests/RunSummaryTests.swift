import Foundation
import Testing
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

    @Test("a run that measured nothing has no overhead figure")
    func nothingRun() {
        let s = RunSummary(idealSeconds: 0, wallSeconds: 2.5, cells: 0, lanes: 1)
        #expect(s.overheadPercent == nil)
        #expect(s.line == "run summary: ideal 0.0 s, wall 2.5 s, overhead n/a (no cell run)")
        #expect(!s.json().contains("overhead"))
    }
}
