#if canImport(Glibc)
import Glibc
#endif

/// Monotonic time in seconds, from `CLOCK_MONOTONIC` (never jumps with NTP or the wall clock).
public enum Clock {
    @inline(__always)
    public static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    /// Monotonic time in nanoseconds, for the latency loop where a Double would round.
    @inline(__always)
    public static func nanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }

    /// Sleeps for `seconds` (restarting after signals until the time has really passed).
    public static func sleep(_ seconds: Double) {
        guard seconds > 0 else { return }
        let until = now() + seconds
        while true {
            let left = until - now()
            if left <= 0 { return }
            var ts = timespec(tv_sec: Int(left), tv_nsec: Int((left - Double(Int(left))) * 1e9))
            nanosleep(&ts, nil)
        }
    }
}
