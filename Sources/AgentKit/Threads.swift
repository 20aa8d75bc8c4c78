#if canImport(Glibc)
import Glibc
#endif
import Syscall

/// What a new pthread runs: a non-generic box, so that the C entry point captures nothing.
private final class ThreadEntry {
    let run: () -> Void
    init(_ run: @escaping () -> Void) { self.run = run }
}

/// Where a thread leaves its result; read only after `pthread_join`, which orders the accesses.
private final class ResultSlot<Result>: @unchecked Sendable {
    var value: Result?
}

/// A POSIX thread running one closure, joined for its result.
///
/// The agent uses plain pthreads, one per stream, so that a multi-stream test is not
/// limited to one core by a cooperative scheduler.
public final class WorkerThread<Result>: @unchecked Sendable {
    private var thread = pthread_t()
    private let slot = ResultSlot<Result>()

    public init(_ body: @escaping () -> Result) throws(SystemError) {
        let slot = self.slot
        let entry = ThreadEntry { slot.value = body() }
        let context = Unmanaged.passRetained(entry).toOpaque()
        let rc = pthread_create(&thread, nil, { raw in
            Unmanaged<ThreadEntry>.fromOpaque(raw!).takeRetainedValue().run()
            return nil
        }, context)
        if rc != 0 {
            Unmanaged<ThreadEntry>.fromOpaque(context).release()
            throw SystemError(call: "pthread_create", errno: rc)
        }
    }

    /// Waits for the thread to end and returns what it returned.
    public func join() -> Result {
        pthread_join(thread, nil)
        return slot.value!
    }
}
