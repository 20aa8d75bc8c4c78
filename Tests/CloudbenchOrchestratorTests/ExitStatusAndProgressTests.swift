import Foundation
import Testing
@testable import CloudbenchCore
@testable import CloudbenchOrchestrator

/// compare's exit status (docs/exit-codes.md) and the ETA on every log line off a terminal.
@Suite("compare's exit status and log progress")
struct ExitStatusAndProgressTests {
    static let cell = Cell(pair: "p", path: .vxlan, test: .tcpBandwidth, repetition: 1)

    static func record(_ status: ResultRecord.Status) -> ResultRecord {
        ResultRecord(id: "r/p/host/tcp_bw/1", runID: "r", time: "2026-03-01T10:00:00Z", pair: "p", provider: "azure", type: "A2",
                     region: "westeurope", path: "host", test: "tcp_bw", repetition: 1, status: status,
                     error: status == .failed ? "server did not answer within 30 s" : nil, value: status == .ok ? 12.5 : nil,
                     unit: "MB/s")
    }

    static func summary(records: [ResultRecord] = [record(.ok)], skipped: Bool = false, hostProblem: Bool = false,
                        interrupted: Bool = false) -> CompareSummary {
        CompareSummary(runID: "r", resultsPath: "results/r.jsonl", records: records, earlierRecords: [],
                       skipped: skipped ? [(cell, "path vxlan needs root; client has no sudo")] : [],
                       hostProblems: hostProblem ? [("192.0.2.10", "cannot connect")] : [], pairsNotRun: [], leftovers: [:],
                       interrupted: interrupted)
    }

    @Test("0 all ok; 1 failed cell or host; 3 skipped unless allowed; 130 interrupted wins")
    func exitStatus() {
        #expect(Self.summary().exitStatus(allowSkipped: false).rawValue == 0)
        #expect(Self.summary(records: [Self.record(.ok), Self.record(.failed)]).exitStatus(allowSkipped: false).rawValue == 1)
        #expect(Self.summary(hostProblem: true).exitStatus(allowSkipped: true).rawValue == 1)
        #expect(Self.summary(skipped: true).exitStatus(allowSkipped: false).rawValue == 3)
        #expect(Self.summary(skipped: true).exitStatus(allowSkipped: true).rawValue == 0)
        // A failure says more than a skip: 1, not 3.
        #expect(Self.summary(records: [Self.record(.failed)], skipped: true).exitStatus(allowSkipped: false).rawValue == 1)
        #expect(Self.summary(records: [Self.record(.failed)], skipped: true, interrupted: true).exitStatus(allowSkipped: true).rawValue == 130)
    }

    @Test("every log line carries an ETA: from the mean time per cell, 0s at the end")
    func etaOnEveryLine() {
        let start = Date(timeIntervalSince1970: 1_000_000)
        var counts = ProgressCounts(total: 10)
        counts.startTime = start
        counts.done = 1
        // 1 cell in 12 s → 9 more at 12 s each.
        #expect(counts.logLine(Self.cell, CellOutcome(record: Self.record(.ok), skipped: nil, lostHost: nil), now: start + 12)
                == "[1/10, ETA 1m 48s] p vxlan tcp_bw #1: 12.5 MB/s")
        counts.done = 4
        #expect(counts.logLine(Self.cell, CellOutcome(record: Self.record(.failed), skipped: nil, lostHost: nil), now: start + 40)
                == "[4/10, ETA 1m 00s] p vxlan tcp_bw #1: FAILED: server did not answer within 30 s")
        counts.done = 10
        #expect(counts.logLine(Self.cell, CellOutcome(record: nil, skipped: "path vxlan needs root", lostHost: nil), now: start + 99)
                == "[10/10, ETA 0s] p vxlan tcp_bw #1: skipped: path vxlan needs root")
    }
}
