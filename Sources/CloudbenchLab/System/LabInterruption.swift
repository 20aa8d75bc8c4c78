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
    }

    static var isRequested: Bool { flag != 0 }
}
