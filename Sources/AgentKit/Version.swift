#if canImport(Glibc)
import Glibc
#endif
import Syscall

/// The agent's version and a build id that differs between any two builds.
public enum AgentVersion {
    public static let version = "0.1.0"

    /// FNV-1a 64 of the running executable: two binaries with the same id are the same build,
    /// which is what the orchestrator's deploy step and a result record need to know.
    public static func buildID() -> String {
        guard let bytes = try? Posix.readFile("/proc/self/exe", limit: 256 << 20) else { return "unknown" }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { hash = (hash ^ UInt64(b)) &* 0x100_0000_01b3 }
        return format("%016llx", hash)
    }
}
