import CloudbenchCore
import Foundation
import Testing
@testable import CloudbenchOrchestrator

/// `CLOUDBENCH_BEFORE_CELL`: a local program run before each cell, told which cell it is.
@Suite("before-cell hook")
struct CellHookTests {
    /// A temporary executable script, removed by the caller.
    static func script(_ body: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("cb-hook-\(getpid())-\(UUID().uuidString)").path
        try "#!/bin/sh\n\(body)\n".write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        return path
    }

    let cell = Cell(pair: "t2", path: .vxlan, test: .tcpBandwidth, repetition: 2)

    @Test("the hook sees the cell in its environment")
    func environment() async throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("cb-hook-out-\(getpid())").path
        let path = try Self.script("echo \"$CLOUDBENCH_CELL_PAIR $CLOUDBENCH_CELL_PATH $CLOUDBENCH_CELL_TEST $CLOUDBENCH_CELL_REPETITION\" > \(out)")
        defer { try? FileManager.default.removeItem(atPath: path); try? FileManager.default.removeItem(atPath: out) }
        try await CellHook(program: path).run(cell)
        #expect(try String(contentsOfFile: out, encoding: .utf8) == "t2 vxlan tcp_bw 2\n")
        #expect(CellHook.fromEnvironment(["CLOUDBENCH_BEFORE_CELL": path])?.program == path)
        #expect(CellHook.fromEnvironment([:]) == nil && CellHook.fromEnvironment(["CLOUDBENCH_BEFORE_CELL": ""]) == nil)
    }

    @Test("a failing hook fails the cell with what it said; a hanging one is stopped at its deadline")
    func failures() async throws {
        let failing = try Self.script("echo 'cannot refill: no such qdisc' >&2; exit 3")
        let hanging = try Self.script("exec sleep 30")
        defer { try? FileManager.default.removeItem(atPath: failing); try? FileManager.default.removeItem(atPath: hanging) }
        do {
            try await CellHook(program: failing).run(cell)
            Issue.record("a failing hook passed")
        } catch {
            #expect("\(error)" == "CLOUDBENCH_BEFORE_CELL \(failing) failed (exit 3): cannot refill: no such qdisc")
        }
        let started = Date()
        do {
            try await CellHook(program: hanging, timeoutSeconds: 0.5).run(cell)
            Issue.record("a hanging hook passed")
        } catch {
            #expect("\(error)" == "CLOUDBENCH_BEFORE_CELL \(hanging) did not finish within 0.5 s")
        }
        #expect(Date().timeIntervalSince(started) < 5)
    }

    @Test("a hook that leaves a child behind holding its stderr does not hold up the cell")
    func leftChild() async throws {
        let path = try Self.script("sleep 4 >/dev/null 2>&1 </dev/null & echo refilled >&2; exit 0")
        let lingering = try Self.script("sleep 4 & exit 0")
        defer { try? FileManager.default.removeItem(atPath: path); try? FileManager.default.removeItem(atPath: lingering) }
        let started = Date()
        try await CellHook(program: path).run(cell)
        try await CellHook(program: lingering).run(cell)
        #expect(Date().timeIntervalSince(started) < 3)
    }
}
