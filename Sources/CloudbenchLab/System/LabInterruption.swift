import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Turns Ctrl-C (SIGINT) and SIGTERM during `lab up` into an orderly stop that removes what was built.
///
/// The handler only sets a flag (all a signal handler may safely do); the builder checks it
/// between steps. A program running at that moment got the same signal from the terminal and
/// fails, which also ends the build through its error path.
public enum LabInterruption {
    nonisolated(unsafe) private static var flag: sig_atomic_t = 0

    /// Installs the handlers; call once, from a command that builds a lab.
    public static func install() {
        let handler: @convention(c) (Int32) -> Void = { _ in LabInterruption.flag = 1 }
        signal(SIGINT, handler)
        signal(SIGTERM, handler)
        // The build runs on the calling thread, which may be a pool thread with every signal
        // blocked (an async `main`): unblock these two here so the handler runs and is seen.
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }

    static var isRequested: Bool { flag != 0 }
}
