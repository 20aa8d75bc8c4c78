#if canImport(Glibc)
import Glibc
#endif

/// CPU time this process has used, user and system, in seconds.
public struct CPUTime: Sendable {
    public var user: Double
    public var system: Double

    public static func current() -> CPUTime {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return CPUTime(user: Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) * 1e-6,
                       system: Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) * 1e-6)
    }

    public static func + (a: CPUTime, b: CPUTime) -> CPUTime {
        CPUTime(user: a.user + b.user, system: a.system + b.system)
    }

    public static func - (a: CPUTime, b: CPUTime) -> CPUTime {
        CPUTime(user: a.user - b.user, system: a.system - b.system)
    }
}
