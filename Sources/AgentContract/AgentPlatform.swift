/// Where the agent binary runs: the one compatibility rule that preflight, compare and the
/// inventory loader all apply.
public enum AgentPlatform {
    /// The architectures the agent is built for, as `uname -m` names them.
    public static let architectures = ["x86_64", "aarch64"]
    /// The oldest glibc the agent runs on (it is linked with a static Swift runtime against 2.34).
    public static let minimumGlibc = (major: 2, minor: 34)

    /// Why the agent cannot run on a host with this `uname -m` and glibc version, or nil.
    public static func problem(arch: String, glibc: String?) -> String? {
        guard architectures.contains(arch) else {
            return "architecture \(arch.isEmpty ? "unknown" : arch) is not supported (\(architectures.joined(separator: " or ")))"
        }
        let floor = "\(minimumGlibc.major).\(minimumGlibc.minor)"
        guard let glibc else { return "no glibc found (the agent needs glibc \(floor) or newer)" }
        let parts = glibc.split(separator: ".").compactMap { Int($0) }
        guard parts.count >= 2 else { return "cannot read the glibc version '\(glibc)' (the agent needs \(floor) or newer)" }
        if (parts[0], parts[1]) < (minimumGlibc.major, minimumGlibc.minor) {
            return "glibc \(glibc) is older than \(floor), which the agent needs"
        }
        return nil
    }
}
