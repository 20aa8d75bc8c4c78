#if canImport(Glibc)
import Glibc
#endif

/// The agent's version and a build id that differs between any two builds.
public enum AgentVersion {
    public static let version = "0.1.0"

    /// FNV-1a 64 of the running executable: two binaries with the same id are the same build,
    /// which is what the orchestrator's deploy step and a result record need to know.
    public static func buildID() -> String {
        let fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return "unknown" }
        defer { close(fd) }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            for i in 0..<n { hash = (hash ^ UInt64(buffer[i])) &* 0x100_0000_01b3 }
        }
        return format("%016llx", hash)
    }
}
