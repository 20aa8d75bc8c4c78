#if canImport(Glibc)
import Glibc
#endif

/// The machine's CPU time from the `cpu` line of `/proc/stat`, in clock ticks (`USER_HZ`), summed
/// over every CPU: what a cell costs the host, tunnel and kernel work included, which the
/// agent's own `getrusage` cannot see (softirq time spent on the network is nobody's process).
public struct ProcStat: Sendable, Equatable {
    public var user: UInt64 = 0, nice: UInt64 = 0, system: UInt64 = 0, idle: UInt64 = 0
    public var iowait: UInt64 = 0, irq: UInt64 = 0, softirq: UInt64 = 0, steal: UInt64 = 0

    /// Why a host's CPU could not be read; the cell goes on without it. A short code on the
    /// control line, a sentence in the record.
    public enum Absent: String, Sendable, Error {
        case missing = "no_proc_stat"
        case unreadable = "unreadable_proc_stat"
        case malformed = "malformed_proc_stat"
        /// The counters went backwards (or the peer sent nonsense): not a window's delta.
        case inconsistent = "inconsistent_proc_stat"
        /// The peer agent sent no `HOST` line (an older agent, or it ended early).
        case notSent = "not_sent"

        public var sentence: String {
            switch self {
            case .missing: return "/proc/stat does not exist on this host"
            case .unreadable: return "/proc/stat could not be read"
            case .malformed: return "/proc/stat has no cpu line in the expected shape"
            case .inconsistent: return "the CPU counters of /proc/stat went backwards during the window"
            case .notSent: return "the agent on this host sent no CPU counters"
            }
        }
    }

    /// Idle and I/O wait are time the CPUs had nothing to run; everything else is work (steal is
    /// time the hypervisor gave to another guest: counted in the total, not as this host's work).
    public var busy: UInt64 { user &+ nice &+ system &+ irq &+ softirq }
    public var total: UInt64 { busy &+ idle &+ iowait &+ steal }

    public init() {}

    /// Reads `path` (at most 64 KiB: the `cpu` line is the first).
    public static func read(path: String = "/proc/stat") -> Result<ProcStat, Absent> {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { return .failure(errno == ENOENT ? .missing : .unreadable) }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: 65_536)
        var used = 0
        while used < bytes.count {
            let n = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + used, $0.count - used) }
            if n < 0 { if errno == EINTR { continue }; return .failure(.unreadable) }
            if n == 0 { break }
            used += n
        }
        guard let stat = parse(String(decoding: bytes[..<used], as: UTF8.self)) else { return .failure(.malformed) }
        return .success(stat)
    }

    /// The aggregate `cpu  user nice system idle iowait irq softirq steal …` line; kernels before
    /// 2.6.11 print fewer fields (the missing ones read 0), later ones more (guest time, already
    /// inside user and nice, is ignored). nil when there is no such line or a field is not a count.
    public static func parse(_ text: String) -> ProcStat? {
        for line in text.split(separator: "\n", omittingEmptySubsequences: true).prefix(4096) {
            let words = line.split(separator: " ", omittingEmptySubsequences: true)
            guard words.first == "cpu" else { continue }
            let numbers = words.dropFirst().prefix(8)
            guard numbers.count >= 4 else { return nil }
            var values: [UInt64] = []
            for w in numbers {
                // A tick count below 2^53: a century of ticks on thousands of CPUs, and exact as a Double.
                guard let v = UInt64(w), v < 1 << 53 else { return nil }
                values.append(v)
            }
            while values.count < 8 { values.append(0) }
            var s = ProcStat()
            (s.user, s.nice, s.system, s.idle) = (values[0], values[1], values[2], values[3])
            (s.iowait, s.irq, s.softirq, s.steal) = (values[4], values[5], values[6], values[7])
            return s
        }
        return nil
    }

    /// `later - self` field by field; nil when any counter went backwards.
    public func delta(to later: ProcStat) -> ProcStat? {
        func d(_ a: UInt64, _ b: UInt64) -> UInt64? { b >= a ? b - a : nil }
        guard let u = d(user, later.user), let n = d(nice, later.nice), let s = d(system, later.system),
              let i = d(idle, later.idle), let w = d(iowait, later.iowait), let q = d(irq, later.irq),
              let sq = d(softirq, later.softirq), let st = d(steal, later.steal) else { return nil }
        var out = ProcStat()
        (out.user, out.nice, out.system, out.idle, out.iowait, out.irq, out.softirq, out.steal) = (u, n, s, i, w, q, sq, st)
        return out
    }

    /// Clock ticks per second of `/proc/stat` (`USER_HZ`, 100 on every Linux architecture cloudbench runs on).
    public static var ticksPerSecond: Double {
        let hz = sysconf(Int32(_SC_CLK_TCK))
        return hz > 0 ? Double(hz) : 100
    }
}
