/// What preflight learns about a host, read with one command.
public struct HostFacts: Sendable, Equatable {
    public var arch: String
    public var kernel: String
    public var home: String
    public var isRoot: Bool
    public var canSudo: Bool
    /// e.g. `2.35`; nil when the host does not say (musl, or no getconf).
    public var glibc: String?

    /// Prints one `key=value` a line; `sudo -n true` tells whether sudo works without a password.
    public static let command = "echo arch=$(uname -m); echo kernel=$(uname -r); echo home=$HOME; echo uid=$(id -u); "
        + "echo glibc=$(getconf GNU_LIBC_VERSION 2>/dev/null | sed 's/^glibc //'); "
        + "if sudo -n true 2>/dev/null; then echo sudo=yes; else echo sudo=no; fi"

    public static func parse(_ output: String) -> HostFacts? {
        var kv: [String: String] = [:]
        for line in output.split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
            if parts.count == 2 { kv[parts[0]] = parts[1] } else if parts.count == 1 { kv[parts[0]] = "" }
        }
        guard let arch = kv["arch"], !arch.isEmpty, let home = kv["home"], !home.isEmpty else { return nil }
        return HostFacts(arch: arch, kernel: kv["kernel"] ?? "", home: home, isRoot: kv["uid"] == "0",
                         canSudo: kv["sudo"] == "yes", glibc: (kv["glibc"]?.isEmpty ?? true) ? nil : kv["glibc"])
    }

    /// Why the agent cannot run here, or nil. The agent needs glibc 2.34 or newer.
    public var agentProblem: String? {
        guard ["x86_64", "aarch64"].contains(arch) else { return "architecture \(arch) is not supported (x86_64 or aarch64)" }
        guard let g = glibc else { return "no glibc found (the agent needs glibc 2.34 or newer)" }
        let parts = g.split(separator: ".").compactMap { Int($0) }
        if parts.count >= 2, (parts[0], parts[1]) < (2, 34) { return "glibc \(g) is older than 2.34, which the agent needs" }
        return nil
    }
}
