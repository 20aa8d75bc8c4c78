import Syscall

/// A host's own counters at one moment, sampled by each side's agent when a bandwidth test
/// starts and when it ends: the machine's CPU (`/proc/stat`) and the agent's own CPU time.
///
/// This is the one place per-cell host metrics are sampled; the NIC's counters (`ethtool -S`,
/// `NICCounters`) are sampled beside the CPU and travel on the same `HOST` line.
public struct HostCounters: Sendable {
    public var time: Double
    public var cpu: Result<ProcStat, ProcStat.Absent>
    public var agent: CPUTime
    /// The counters of the device toward the peer; nil when not sampled.
    public var nic: Result<NICCounters, NICCounters.Absent>? = nil

    /// The counters now; the NIC's those of the device that carries traffic to `peer`.
    public static func sample(procStat path: String = "/proc/stat", toward peer: SocketAddress? = nil) -> HostCounters {
        let nic = peer.map { NICCounters.sample(toward: $0) }
        return HostCounters(time: Clock.now(), cpu: ProcStat.read(path: path), agent: CPUTime.current(), nic: nic)
    }

    /// The counters now, the NIC's of the same device as this sample (the end of a window).
    public func again(procStat path: String = "/proc/stat") -> HostCounters {
        let nic = self.nic.map { before in before.flatMap { $0.again() } }
        return HostCounters(time: Clock.now(), cpu: ProcStat.read(path: path), agent: CPUTime.current(), nic: nic)
    }

    /// The tests whose cells record host counters (the ones that move bytes).
    public static func applies(to test: TestKind) -> Bool { test == .tcpBandwidth || test.isUDP }
}

/// What a host's counters did over one test: sent by the server on its `HOST` line after the
/// result, computed by the client for its own side, and written into `detail.cpu.client` and
/// `detail.cpu.server` beside the agent's own figures.
public struct HostWindow: Sendable, Equatable {
    public var seconds: Double
    /// The machine's CPU ticks over the window, or why there are none.
    public var cpu: Result<ProcStat, ProcStat.Absent>
    public var ticksPerSecond: Double
    /// The agent's own CPU over the window.
    public var agent: CPUTime
    /// The NIC's counters over the window; nil when not sampled (or an older peer sent none).
    public var nic: Result<NICWindow, NICCounters.Absent>?

    public init(seconds: Double, cpu: Result<ProcStat, ProcStat.Absent>, ticksPerSecond: Double, agent: CPUTime,
                nic: Result<NICWindow, NICCounters.Absent>? = nil) {
        self.seconds = seconds
        self.cpu = cpu
        self.ticksPerSecond = ticksPerSecond
        self.agent = agent
        self.nic = nic
    }

    public init(from a: HostCounters, to b: HostCounters, ticksPerSecond: Double = ProcStat.ticksPerSecond) {
        let cpu: Result<ProcStat, ProcStat.Absent>
        switch (a.cpu, b.cpu) {
        case (.success(let x), .success(let y)): cpu = x.delta(to: y).map { .success($0) } ?? .failure(.inconsistent)
        case (.failure(let e), _), (_, .failure(let e)): cpu = .failure(e)
        }
        var nic: Result<NICWindow, NICCounters.Absent>?
        if let x = a.nic, let y = b.nic { nic = NICWindow.between(x, y) }
        self.init(seconds: max(0, b.time - a.time), cpu: cpu, ticksPerSecond: ticksPerSecond, agent: b.agent - a.agent, nic: nic)
    }

    public static func == (a: HostWindow, b: HostWindow) -> Bool {
        a.seconds == b.seconds && a.ticksPerSecond == b.ticksPerSecond && a.agent.user == b.agent.user
            && a.agent.system == b.agent.system && "\(a.cpu)" == "\(b.cpu)" && "\(String(describing: a.nic))" == "\(String(describing: b.nic))"
    }

    /// The `HOST k=v …` line's fields.
    public func fields() -> [(String, String)] {
        var out: [(String, String)] = [("secs", String(seconds)), ("hz", String(ticksPerSecond)),
                                       ("agent_user", String(agent.user)), ("agent_sys", String(agent.system))]
        switch cpu {
        case .success(let s):
            out += [("user", String(s.user)), ("nice", String(s.nice)), ("system", String(s.system)), ("idle", String(s.idle)),
                    ("iowait", String(s.iowait)), ("irq", String(s.irq)), ("softirq", String(s.softirq)), ("steal", String(s.steal))]
        case .failure(let why):
            out.append(("cpu_absent", why.rawValue))
        }
        if let nic { out += NICWindow.fields(nic) }
        return out
    }

    /// Parses a peer's `HOST` fields; nil when the line is not one. Counts are bounded like
    /// `/proc/stat`'s own, so no sum overflows.
    public init?(fields f: [String: String]) {
        guard let secs = ControlLine.nonNegative(f["secs"]), secs < 1e7,
              let hz = ControlLine.nonNegative(f["hz"]), hz >= 1, hz <= 1e6,
              let au = ControlLine.nonNegative(f["agent_user"]), let asys = ControlLine.nonNegative(f["agent_sys"]) else { return nil }
        let cpu: Result<ProcStat, ProcStat.Absent>
        if let code = f["cpu_absent"] {
            cpu = .failure(ProcStat.Absent(rawValue: code) ?? .malformed)
        } else {
            func tick(_ k: String) -> UInt64? { f[k].flatMap { UInt64($0) }.flatMap { $0 < 1 << 53 ? $0 : nil } }
            if let u = tick("user"), let n = tick("nice"), let s = tick("system"), let i = tick("idle"), let w = tick("iowait"),
               let q = tick("irq"), let sq = tick("softirq"), let st = tick("steal") {
                var p = ProcStat()
                (p.user, p.nice, p.system, p.idle, p.iowait, p.irq, p.softirq, p.steal) = (u, n, s, i, w, q, sq, st)
                cpu = .success(p)
            } else {
                cpu = .failure(.inconsistent)
            }
        }
        self.init(seconds: secs, cpu: cpu, ticksPerSecond: hz, agent: CPUTime(user: au, system: asys), nic: NICWindow.parse(fields: f))
    }

    /// The fields added to this side's `detail.cpu` object. `payloadBytesPerSecond` is the cell's
    /// rate of payload received (both directions summed for a bidirectional test): CPU seconds
    /// per second over GB per second is the CPU seconds one GB cost, whatever the window's length.
    public func cpuFields(payloadBytesPerSecond: Double?) -> [(String, JSON)] {
        var out: [(String, JSON)] = [("window_s", .double(seconds)),
                                     ("agent_cpu_s", .double(agent.user + agent.system))]
        switch cpu {
        case .success(let s):
            let total = Double(s.total)
            let busySeconds = Double(s.busy) / ticksPerSecond
            out += [("host_cpu_s", .double(busySeconds)),
                    ("user_percent", .double(total > 0 ? Double(s.user &+ s.nice) / total * 100 : 0)),
                    ("system_percent", .double(total > 0 ? Double(s.system &+ s.irq) / total * 100 : 0)),
                    ("softirq_percent", .double(total > 0 ? Double(s.softirq) / total * 100 : 0)),
                    ("steal_percent", .double(total > 0 ? Double(s.steal) / total * 100 : 0))]
            if let rate = payloadBytesPerSecond, rate > 0, seconds > 0 {
                out.append(("cpu_seconds_per_gigabyte", .double(busySeconds / seconds / (rate / 1e9))))
            }
        case .failure(let why):
            out.append(("host_cpu_absent", .string(why.sentence)))
        }
        return out
    }
}

extension JSON {
    /// This object with `fields` added to `cpu.SIDE` (both created when missing); a non-object
    /// stays as it is.
    func addingCPU(side: String, _ fields: [(String, JSON)]) -> JSON {
        guard case .object(var top) = self else { return self }
        var cpu: [(String, JSON)] = []
        let at = top.firstIndex { $0.0 == "cpu" }
        if let at, case .object(let o) = top[at].1 { cpu = o }
        var mine: [(String, JSON)] = []
        let sideAt = cpu.firstIndex { $0.0 == side }
        if let sideAt, case .object(let o) = cpu[sideAt].1 { mine = o }
        for (k, v) in fields {
            if let i = mine.firstIndex(where: { $0.0 == k }) { mine[i].1 = v } else { mine.append((k, v)) }
        }
        if let sideAt { cpu[sideAt].1 = .object(mine) } else { cpu.append((side, .object(mine))) }
        if let at { top[at].1 = .object(cpu) } else { top.append(("cpu", .object(cpu))) }
        return .object(top)
    }

    /// The payload rate a bandwidth result received: both directions for a bidirectional one.
    var receivedBytesPerSecond: Double? {
        guard case .object(let top) = self else { return nil }
        for key in ["sum_receiver_bytes_per_second", "receiver_bytes_per_second"] {
            if let v = top.first(where: { $0.0 == key })?.1 {
                switch v {
                case .double(let d): return d
                case .int(let i): return Double(i)
                default: continue
                }
            }
        }
        return nil
    }
}
