@testable import CloudbenchCore
@testable import CloudbenchOrchestrator
import Testing

/// `--resume` with directions and stream sweeps: each variant of a test is its own cell, found
/// done (or retried) by the knobs its record states, a failed one included.
@Suite("resume knows each variant of a cell")
struct VariantResumeTests {
    static func record(_ variant: CellVariant, ok: Bool, detail extra: [String: JSONValue] = [:]) -> ResultRecord {
        let cell = Cell(pair: "p", path: .host, test: .tcpBandwidth, repetition: 1, variant: variant)
        var detail = variant.statedDetail(test: .tcpBandwidth)
        detail.merge(extra) { _, b in b }
        return ResultRecord(id: ResultRecord.makeID(runID: "r", pair: "p", path: "host", test: cell.testKey, repetition: 1),
                            runID: "r", time: "2026-12-01T00:00:00Z", pair: "p", provider: "azure", type: "A2", region: "r",
                            path: "host", test: "tcp_bw", repetition: 1, status: ok ? .ok : .failed, value: ok ? 10 : nil,
                            unit: ok ? "MB/s" : nil, detail: detail.isEmpty ? nil : .object(detail))
    }

    @Test("the 1-stream cell done, the 8-stream reverse one failed: only the second runs again, as attempt 2")
    func resume() {
        let eight = CellVariant(direction: .serverToClient, streams: 8)
        // The agent's own JSON of a plain cell says direction and streams too; still the plain cell.
        let state = ResumeState(records: [Self.record(.plain, ok: true, detail: ["direction": .string("client_to_server"), "streams": .number(1)]),
                                          Self.record(eight, ok: false)])
        let plain = Cell(pair: "p", path: .host, test: .tcpBandwidth, repetition: 1)
        let reverse = Cell(pair: "p", path: .host, test: .tcpBandwidth, repetition: 1, variant: eight)
        #expect(state.isDone(plain) && state.nextAttempt(plain) == 2)
        #expect(!state.isDone(reverse) && state.nextAttempt(reverse) == 2)
        #expect(!state.isDone(Cell(pair: "p", path: .host, test: .tcpBandwidth, repetition: 1, variant: CellVariant(streams: 8))))
        #expect(Self.record(eight, ok: false).id == "r/p/host/tcp_bw~server_to_client~s8/1")
    }
}
