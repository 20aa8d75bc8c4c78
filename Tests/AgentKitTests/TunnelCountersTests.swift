import Foundation
import Testing
@testable import AgentKit

/// The user-space tunnel's stats file, its CPU from /proc/PID/stat, and the per-side window that
/// becomes `detail.tunnel` and `detail.cpu.SIDE.tunnel_cpu_s`.
@Suite("tunnel counters")
struct TunnelCountersTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path

    /// A folder that removes itself.
    final class Folder {
        let path = NSTemporaryDirectory() + "cbt-tunnel-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        init() throws { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }
        deinit { try? FileManager.default.removeItem(atPath: path) }
    }

    @Test("the stats line reads back; a line out of shape or range is refused")
    func statsLine() throws {
        let s = TunnelStats(pid: 4242, packetsOut: 10, packetsIn: 9, droppedWrongSource: 1, droppedBadTag: 2, droppedReplay: 3)
        #expect(s.line == "TUNNEL pid=4242 packets_out=10 packets_in=9 dropped_wrong_source=1 dropped_bad_tag=2 dropped_replay=3\n")
        #expect(TunnelStats(line: String(s.line.dropLast())) == s)
        for bad in ["", "HOST pid=4242 packets_out=1 packets_in=1 dropped_wrong_source=0 dropped_bad_tag=0 dropped_replay=0",
                    "TUNNEL pid=1 packets_out=1 packets_in=1 dropped_wrong_source=0 dropped_bad_tag=0 dropped_replay=0",
                    "TUNNEL pid=42 packets_out=-1 packets_in=1 dropped_wrong_source=0 dropped_bad_tag=0 dropped_replay=0",
                    "TUNNEL pid=42 packets_out=1 packets_in=1 dropped_bad_tag=0 dropped_replay=0",
                    "TUNNEL pid=42 packets_out=99999999999999999999 packets_in=1 dropped_wrong_source=0 dropped_bad_tag=0 dropped_replay=0"] {
            #expect(TunnelStats(line: bad) == nil, "\(bad)")
        }
    }

    @Test("the file is replaced whole, never through a planted link, and reads back")
    func statsFile() throws {
        let dir = try Folder()
        let file = "\(dir.path)/tunnel.stats"
        #expect(TunnelStats.read(path: file) == .failure(.notRunning))
        let s = TunnelStats(pid: 77, packetsOut: 5)
        try s.write(to: file)
        #expect(TunnelStats.read(path: file) == .success(s))
        #expect(!FileManager.default.fileExists(atPath: file + ".new"))
        // A link planted where the temporary file goes is not followed: the target stays as it was.
        let target = "\(dir.path)/target"
        try "keep".write(toFile: target, atomically: false, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: file + ".new", withDestinationPath: target)
        #expect(throws: (any Error).self) { try TunnelStats(pid: 77, packetsOut: 6).write(to: file) }
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "keep")
        try "TUNNEL pid=77\n".write(toFile: file, atomically: false, encoding: .utf8)
        #expect(TunnelStats.read(path: file) == .failure(.malformed))
    }

    @Test("utime and stime from /proc/PID/stat, a command name with spaces and parentheses included")
    func processCPU() throws {
        let line = try String(contentsOfFile: "\(Self.fixtures)/proc-pid-stat-tunnel.txt", encoding: .utf8)
        let cpu = try #require(TunnelCounters.processCPU(line, ticksPerSecond: 100))
        #expect(cpu.user == 12.34 && cpu.system == 5.67)
        #expect(TunnelCounters.processCPU("4242 (x) S 1 2 3", ticksPerSecond: 100) == nil)
        #expect(TunnelCounters.processCPU("no parenthesis 1 2 3 4 5 6 7 8 9 10 11 12 13 14", ticksPerSecond: 100) == nil)
    }

    @Test("a sample needs the file's pid to run `tunnel`: a dead or reused pid is absent, with the reason")
    func sample() throws {
        let dir = try Folder()
        let proc = "\(dir.path)/proc", file = "\(dir.path)/tunnel.stats"
        try FileManager.default.createDirectory(atPath: "\(proc)/4242", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: "\(Self.fixtures)/proc-pid-stat-tunnel.txt", toPath: "\(proc)/4242/stat")
        try Data("/h/cloudbench-agent-x\0tunnel\0--device\0cbtun0\0".utf8).write(to: URL(fileURLWithPath: "\(proc)/4242/cmdline"))
        try TunnelStats(pid: 4242, packetsOut: 3).write(to: file)
        let s = try TunnelCounters.sample(statsFile: file, proc: proc).get()
        #expect(s.stats.packetsOut == 3 && s.cpu.user == 1234 / ProcStat.ticksPerSecond)
        // Another program that took over the pid, even with the same argument, is not the tunnel.
        try Data("/usr/bin/sleep\0tunnel\0".utf8).write(to: URL(fileURLWithPath: "\(proc)/4242/cmdline"))
        #expect(TunnelCounters.sample(statsFile: file, proc: proc).failure == .gone)
        try Data("/h/cloudbench-agent-x\0serve\0".utf8).write(to: URL(fileURLWithPath: "\(proc)/4242/cmdline"))
        #expect(TunnelCounters.sample(statsFile: file, proc: proc).failure == .gone)
        try TunnelStats(pid: 4343).write(to: file)
        #expect(TunnelCounters.sample(statsFile: file, proc: proc).failure == .gone)
        #expect(TunnelCounters.sample(statsFile: "\(dir.path)/none", proc: proc).failure == .notRunning)
    }

    static func sample(pid: Int32 = 9, out: Int, badTag: Int, cpu: Double) -> Result<TunnelCounters, TunnelStats.Absent> {
        .success(TunnelCounters(stats: TunnelStats(pid: pid, packetsOut: out, packetsIn: out / 2, droppedBadTag: badTag),
                                cpu: CPUTime(user: cpu, system: cpu / 2)))
    }

    @Test("a window's deltas travel on the HOST line and land in detail.tunnel and detail.cpu.SIDE.tunnel_cpu_s")
    func window() throws {
        let w = try TunnelWindow.between(Self.sample(out: 100, badTag: 1, cpu: 2), Self.sample(out: 1100, badTag: 4, cpu: 3)).get()
        #expect(w.counts.packetsOut == 1000 && w.counts.packetsIn == 500 && w.counts.droppedBadTag == 3 && w.dropped == 3)
        #expect(abs(w.cpuSeconds - 1.5) < 1e-12)
        let line = ControlLine.encode("HOST", [("secs", "1")] + TunnelWindow.fields(.success(w)))
        let back = try #require(TunnelWindow.parse(fields: ControlLine.fields(line.dropLast().split(separator: " ").dropFirst())))
        #expect(try back.get().counts.packetsOut == 1000 && back.get().counts.droppedBadTag == 3 && back.get().cpuSeconds == w.cpuSeconds)
        #expect(TunnelWindow.parse(fields: ["secs": "1"]) == nil, "no tunnel fields: not a udp path")
        #expect(TunnelWindow.parse(fields: ["tunnel_absent": "tunnel_gone"])?.failure == .gone)
        #expect(TunnelWindow.parse(fields: ["tunnel_cpu_s": "1", "tunnel_packets_out": "-3"])?.failure == .inconsistent)

        let result = JSON.object([("test", .string("tcp_bw")), ("cpu", .object([("client", .object([("agent_cpu_s", .double(0.2))]))]))])
            .addingTunnel(client: .success(w), server: .failure(.notSent))
        #expect(result["tunnel"]?["client"]?["dropped_bad_tag"] == .int(3))
        #expect(result["tunnel"]?["client"]?["cpu_s"] == .double(w.cpuSeconds))
        #expect(result["tunnel"]?["server"]?["absent"] == .string(TunnelStats.Absent.notSent.sentence))
        #expect(result["cpu"]?["client"]?["tunnel_cpu_s"] == .double(w.cpuSeconds))
        #expect(result["cpu"]?["client"]?["agent_cpu_s"] == .double(0.2))
        #expect(result["cpu"]?["server"]?["tunnel_cpu_s"] == nil)
    }

    @Test("another tunnel at the end, or counts that went backwards: no window, the reason instead")
    func windowAbsent() {
        #expect(TunnelWindow.between(Self.sample(out: 1, badTag: 0, cpu: 1), Self.sample(pid: 10, out: 5, badTag: 0, cpu: 2)).failure == .restarted)
        #expect(TunnelWindow.between(Self.sample(out: 9, badTag: 0, cpu: 1), Self.sample(out: 5, badTag: 0, cpu: 2)).failure == .inconsistent)
        #expect(TunnelWindow.between(.failure(.gone), Self.sample(out: 5, badTag: 0, cpu: 2)).failure == .gone)
        #expect(TunnelWindow.hostFields(since: .failure(.notRunning), statsFile: "/nonexistent").isEmpty, "no tunnel, no fields")
        #expect(TunnelWindow.hostFields(since: .failure(.gone), statsFile: "/nonexistent").map(\.0) == ["tunnel_absent"])
    }
}

extension Result {
    var failure: Failure? { if case .failure(let e) = self { return e }; return nil }
}
