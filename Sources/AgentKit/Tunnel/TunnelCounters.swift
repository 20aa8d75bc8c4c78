#if canImport(Glibc)
import Glibc
#endif
import Syscall

/// The user-space tunnel on this host at one moment: its published counts (`TunnelStats`) and
/// its CPU time from `/proc/PID/stat`, sampled by each side's agent beside `HostCounters` when
/// a test starts and when it ends (`run`/`serve --tunnel-stats FILE`).
public struct TunnelCounters: Sendable {
    public var stats: TunnelStats
    public var cpu: CPUTime

    /// Samples the tunnel whose stats file is `path`: its counts, then its CPU time. Absent
    /// when no file is there (no tunnel), or when its pid no longer runs `tunnel`.
    public static func sample(statsFile path: String, proc: String = "/proc") -> Result<TunnelCounters, TunnelStats.Absent> {
        switch TunnelStats.read(path: path) {
        case .failure(let why): return .failure(why)
        case .success(let stats):
            guard isTunnel(pid: stats.pid, proc: proc),
                  let text = try? Posix.readFile("\(proc)/\(stats.pid)/stat", limit: 4096),
                  let cpu = processCPU(String(decoding: text, as: UTF8.self)) else { return .failure(.gone) }
            return .success(TunnelCounters(stats: stats, cpu: cpu))
        }
    }

    /// `utime` and `stime` of a `/proc/PID/stat` line (fields 14 and 15, counted after the
    /// command name, which may hold spaces and parentheses), in seconds; nil when malformed.
    public static func processCPU(_ line: String, ticksPerSecond: Double = ProcStat.ticksPerSecond) -> CPUTime? {
        guard let close = line.lastIndex(of: ")") else { return nil }
        let fields = line[line.index(after: close)...].split(separator: " ", omittingEmptySubsequences: true).prefix(16)
        // After the name: state (field 3) is index 0, so utime (14) is index 11 and stime (15) 12.
        guard fields.count > 12, let user = UInt64(fields[11]), let system = UInt64(fields[12]),
              user < 1 << 53, system < 1 << 53, ticksPerSecond >= 1 else { return nil }
        return CPUTime(user: Double(user) / ticksPerSecond, system: Double(system) / ticksPerSecond)
    }

    /// Whether `pid` runs `cloudbench-agent tunnel` (not a process that took over a dead tunnel's pid).
    static func isTunnel(pid: Int32, proc: String) -> Bool {
        guard let bytes = try? Posix.readFile("\(proc)/\(pid)/cmdline", limit: 8192) else { return false }
        let words = bytes.split(separator: 0).prefix(2).map { String(decoding: $0, as: UTF8.self) }
        guard words.count == 2, let program = words[0].split(separator: "/").last else { return false }
        return program.hasPrefix("cloudbench-agent") && words[1] == "tunnel"
    }
}

/// What the tunnel did over one test: its counts' deltas and the CPU seconds it used. The
/// server sends its own as `tunnel_*` fields of its `HOST` line; the client writes both sides
/// into `detail.tunnel.SIDE`, and the CPU seconds into `detail.cpu.SIDE.tunnel_cpu_s`.
public struct TunnelWindow: Sendable, Equatable {
    /// The counts' deltas (the pid is the tunnel's, as at both ends).
    public var counts: TunnelStats
    public var cpuSeconds: Double

    public init(counts: TunnelStats, cpuSeconds: Double) {
        self.counts = counts
        self.cpuSeconds = cpuSeconds
    }

    /// The window between two samples; absent when either is, when the tunnel changed, or
    /// when a count went backwards.
    public static func between(_ a: Result<TunnelCounters, TunnelStats.Absent>,
                               _ b: Result<TunnelCounters, TunnelStats.Absent>) -> Result<TunnelWindow, TunnelStats.Absent> {
        switch (a, b) {
        case (.failure(let why), _), (_, .failure(let why)): return .failure(why)
        case (.success(let x), .success(let y)):
            guard x.stats.pid == y.stats.pid else { return .failure(.restarted) }
            let before = x.stats.counts.map(\.1), after = y.stats.counts.map(\.1)
            guard zip(before, after).allSatisfy({ $0 <= $1 }) else { return .failure(.inconsistent) }
            let d = zip(before, after).map { $1 - $0 }
            let counts = TunnelStats(pid: y.stats.pid, packetsOut: d[0], packetsIn: d[1], droppedWrongSource: d[2],
                                     droppedBadTag: d[3], droppedReplay: d[4])
            let cpu = y.cpu - x.cpu
            return .success(TunnelWindow(counts: counts, cpuSeconds: max(0, cpu.user + cpu.system)))
        }
    }

    /// Datagrams dropped for any reason over the window.
    public var dropped: Int { counts.droppedWrongSource + counts.droppedBadTag + counts.droppedReplay }

    /// The `HOST` line's `tunnel_*` fields for a window, or why there is none.
    public static func fields(_ w: Result<TunnelWindow, TunnelStats.Absent>) -> [(String, String)] {
        switch w {
        case .success(let w):
            return [("tunnel_cpu_s", String(w.cpuSeconds))] + w.counts.counts.map { ("tunnel_\($0.0)", String($0.1)) }
        case .failure(let why):
            return [("tunnel_absent", why.rawValue)]
        }
    }

    /// The server's `tunnel_*` fields for the window from `start` to now: none when no tunnel
    /// ran at the start (not a `udp` path), else its window or why there is none.
    public static func hostFields(since start: Result<TunnelCounters, TunnelStats.Absent>, statsFile: String) -> [(String, String)] {
        if case .failure(.notRunning) = start { return [] }
        return fields(between(start, TunnelCounters.sample(statsFile: statsFile)))
    }

    /// The peer's window from its `HOST` fields; nil when it sent no tunnel fields at all.
    public static func parse(fields f: [String: String]) -> Result<TunnelWindow, TunnelStats.Absent>? {
        if let code = f["tunnel_absent"] { return .failure(TunnelStats.Absent(rawValue: code) ?? .inconsistent) }
        guard f["tunnel_cpu_s"] != nil else { return nil }
        func count(_ k: String) -> Int? { ControlLine.count(f["tunnel_\(k)"]) }
        guard let cpu = ControlLine.nonNegative(f["tunnel_cpu_s"]), cpu < 1e7,
              let o = count("packets_out"), let i = count("packets_in"), let ws = count("dropped_wrong_source"),
              let bt = count("dropped_bad_tag"), let rp = count("dropped_replay") else { return .failure(.inconsistent) }
        return .success(TunnelWindow(counts: TunnelStats(pid: 0, packetsOut: o, packetsIn: i, droppedWrongSource: ws,
                                                         droppedBadTag: bt, droppedReplay: rp), cpuSeconds: cpu))
    }

    /// This side's `detail.tunnel.SIDE` object: the counts, or why there are none.
    public static func json(_ w: Result<TunnelWindow, TunnelStats.Absent>) -> JSON {
        switch w {
        case .success(let w):
            return .object([("cpu_s", .double(w.cpuSeconds))] + w.counts.counts.map { ($0.0, JSON.int($0.1)) })
        case .failure(let why):
            return .object([("absent", .string(why.sentence))])
        }
    }
}

extension JSON {
    /// This object with `detail.tunnel` = {client, server} and each side's tunnel CPU added to
    /// `cpu.SIDE.tunnel_cpu_s` (when measured); a non-object stays as it is.
    func addingTunnel(client: Result<TunnelWindow, TunnelStats.Absent>, server: Result<TunnelWindow, TunnelStats.Absent>) -> JSON {
        guard case .object(var top) = self else { return self }
        top.removeAll { $0.0 == "tunnel" }
        top.append(("tunnel", .object([("client", TunnelWindow.json(client)), ("server", TunnelWindow.json(server))])))
        var out = JSON.object(top)
        if case .success(let w) = client { out = out.addingCPU(side: "client", [("tunnel_cpu_s", .double(w.cpuSeconds))]) }
        if case .success(let w) = server { out = out.addingCPU(side: "server", [("tunnel_cpu_s", .double(w.cpuSeconds))]) }
        return out
    }
}
