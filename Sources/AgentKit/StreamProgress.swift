import Synchronization

/// What one receiving thread has read so far, for the thread that watches the warm-up.
///
/// Relaxed atomics: the watcher needs a recent count, not an exact one, and the hot loop pays
/// two plain stores per read.
final class StreamProgress: Sendable {
    let bytes = Atomic<Int>(0)
    /// Completion time of the read that brought `bytes` (a Double's bit pattern; 0: none yet).
    let lastRead = Atomic<UInt64>(0)
    let finished = Atomic<Bool>(false)

    @inline(__always)
    func record(total: Int, at t: Double) {
        bytes.store(total, ordering: .relaxed)
        lastRead.store(t.bitPattern, ordering: .relaxed)
    }
}

/// When the measured window opened (set once, for every stream thread of one side) and the
/// read or write size for it.
final class WindowOpening: Sendable {
    private let time = Atomic<UInt64>(0)
    private let ioSize = Atomic<Int>(0)
    private let streamRate = Atomic<UInt64>(0)

    /// Opens the window at `t`, for reads or writes of `size` on streams of `rate` bytes/s each.
    func open(at t: Double, size: Int, rate: Double) {
        ioSize.store(size, ordering: .relaxed)
        streamRate.store(rate.bitPattern, ordering: .relaxed)
        time.store(t.bitPattern, ordering: .releasing)
    }

    /// The opening time, size and rate per stream once the window has opened.
    @inline(__always)
    var opened: (at: Double, size: Int, rate: Double)? {
        let bits = time.load(ordering: .acquiring)
        guard bits != 0 else { return nil }
        return (Double(bitPattern: bits), ioSize.load(ordering: .relaxed),
                Double(bitPattern: streamRate.load(ordering: .relaxed)))
    }
}
