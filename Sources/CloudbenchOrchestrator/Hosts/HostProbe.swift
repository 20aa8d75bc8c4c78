import AgentContract
import CloudbenchSSH
import Foundation

/// What the host probe learns about a host, read with one command.
public struct HostFacts: Sendable, Equatable {
    public var arch: String
    public var kernel: String
    public var home: String
    public var uid: Int?
    /// e.g. `2.36`; nil when the host does not say (musl, or neither getconf nor ldd).
    public var glibc: String?
    public var sudo: SudoState
    /// Which of `HostProbe.tools` the host has on its PATH.
    public var tools: [String]
    /// Where the agent can be run from: the first of `HostProbe.agentDirectories` that is the
    /// login user's and not on a `noexec` mount; `""` when none is, nil when the probe did not say.
    public var agentDirectory: String?

    public init(arch: String, kernel: String, home: String, uid: Int?, glibc: String?, sudo: SudoState, tools: [String] = [],
                agentDirectory: String? = nil) {
        self.arch = arch
        self.kernel = kernel
        self.home = home
        self.uid = uid
        self.glibc = glibc
        self.sudo = sudo
        self.tools = tools
        self.agentDirectory = agentDirectory
    }

    public var isRoot: Bool { uid == 0 }
    /// Whether `sudo -n` runs commands without asking for a password.
    public var canSudo: Bool { sudo == .works }
}

/// What `sudo -n true` did on a host.
public enum SudoState: Sendable, Equatable {
    case works
    case needsPassword
    case missing
    /// sudo refused for another reason (not in sudoers, …), with the first line it printed.
    case refused(String)

    /// How the preflight table says it.
    public var label: String {
        switch self {
        case .works: return "ok"
        case .needsPassword: return "needs password"
        case .missing: return "missing"
        case .refused: return "refused"
        }
    }
}

/// The one host probe: preflight and compare both learn a host's architecture, kernel, glibc,
/// sudo, home, uid and tools with `command`, read it with `parse` and judge it with `problems`.
public enum HostProbe {
    /// Programs the built-in paths use on a host; reported, not required. No step reads the
    /// host's sockets with `ss` (or /proc/net/tcp): an agent server is ready when it prints READY
    /// with its pid, a busy port is the agent's own failed bind (`reach-answer` says `busy`), so
    /// a host without `ss` needs nothing else (`HardenedHostLabTests.withoutSS`).
    public static let tools = ["ip", "nohup", "gzip"]

    /// Folders the agent may be kept in and run from, in order: the home's cache, then per-user
    /// folders on /var/tmp and /dev/shm for a home on a `noexec` mount.
    public static let agentDirectories = ["$HOME/.cache/cloudbench", "/var/tmp/cloudbench-$(id -u)", "/dev/shm/cloudbench-$(id -u)"]

    /// Prints `execdir=` and the first of `agentDirectories` where a program runs: made if missing,
    /// owned by the login user (not a link another user planted), mode 700; `execdir=` alone when none.
    static let execDirectoryProbe = "x=; for d in \(agentDirectories.map { "\"\($0)\"" }.joined(separator: " ")); do "
        + "mkdir -p \"$d\" 2>/dev/null && [ -O \"$d\" ] && [ ! -L \"$d\" ] && chmod 700 \"$d\" "
        + "&& printf '#!/bin/sh\\nexit 0\\n' > \"$d/.cb-exec\" && chmod 700 \"$d/.cb-exec\" && \"$d/.cb-exec\" 2>/dev/null && x=$d; "
        + "rm -f \"$d/.cb-exec\" 2>/dev/null; [ -n \"$x\" ] && break; done; echo \"execdir=$x\"; "

    /// Prints one `key=value` a line. glibc comes from `getconf`, else from the first line of
    /// `ldd --version` (which names musl on musl hosts); sudo is tried with `-n` so it never prompts.
    public static let command = "echo arch=$(uname -m); echo kernel=$(uname -r); echo home=$HOME; echo uid=$(id -u); "
        + "echo glibc=$( (getconf GNU_LIBC_VERSION 2>/dev/null || ldd --version 2>&1) | head -n 1); "
        + "if ! command -v sudo >/dev/null 2>&1; then echo sudo=missing; "
        + "elif s=$(\(Sudo.wrap("true")) 2>&1 </dev/null); then echo sudo=ok; "
        + "else echo \"sudo=refused $(printf '%s' \"$s\" | head -n 1)\"; fi; "
        + "for t in \(tools.joined(separator: " ")); do command -v $t >/dev/null 2>&1 && echo tool=$t; done; "
        + execDirectoryProbe + "true"

    /// Reads `command`'s output; nil when it lacks the architecture or the home folder.
    public static func parse(_ output: String) -> HostFacts? {
        var kv: [String: String] = [:]
        var tools: [String] = []
        for line in output.split(separator: "\n").prefix(64) {
            let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
            guard let key = parts.first else { continue }
            let value = parts.count == 2 ? parts[1].trimmingCharacters(in: .whitespaces) : ""
            if key == "tool" { tools.append(value) } else { kv[key] = value }
        }
        guard let arch = kv["arch"], !arch.isEmpty, let home = kv["home"], !home.isEmpty else { return nil }
        let sudo: SudoState
        switch kv["sudo"] ?? "missing" {
        case "ok", "yes": sudo = .works
        case "missing": sudo = .missing
        case let said:
            let reason = said.hasPrefix("refused") ? String(said.dropFirst("refused".count)).trimmingCharacters(in: .whitespaces) : said
            sudo = Sudo.refusal(status: 1, stderr: reason) == .needsPassword ? .needsPassword : .refused(reason)
        }
        return HostFacts(arch: arch, kernel: kv["kernel"] ?? "", home: home, uid: kv["uid"].flatMap { Int($0) },
                         glibc: kv["glibc"].flatMap(glibcVersion(from:)), sudo: sudo, tools: tools, agentDirectory: kv["execdir"])
    }

    /// `glibc 2.36` (getconf), `2.36`, or `ldd (Debian GLIBC 2.36-9+deb12u4) 2.36` (ldd): the last
    /// dotted number; musl's ldd names itself instead.
    public static func glibcVersion(from line: String) -> String? {
        if line.lowercased().contains("musl") { return nil }
        return line.split(separator: " ")
            .last(where: { $0.split(separator: ".").count >= 2 && $0.allSatisfy { $0.isNumber || $0 == "." } })
            .map(String.init)
    }

    /// Runs the probe over `shell`.
    public static func probe(_ shell: RemoteShell, timeout: Double = 20) async throws -> HostFacts {
        let out = try await shell.run(command, timeout: timeout)
        guard let facts = parse(out.stdout) else {
            throw RemoteError.failed(host: shell.label, what: "reading the host's facts", output: out)
        }
        return facts
    }
}

extension HostFacts {
    /// Why the agent cannot run here (the platform rule shared with the inventory loader), or nil.
    public var agentProblem: String? { AgentPlatform.problem(arch: arch, glibc: glibc) }

    /// Why a run cannot use this host, with the inventory's `sudo` setting; empty when it is ready.
    /// Preflight prints these and compare refuses the host for exactly these.
    public func problems(host: String, user: String, sudoAllowed: Bool) -> [String] {
        var out: [String] = []
        if let why = agentProblem { out.append("\(host): the agent cannot run here: \(why)") }
        if agentDirectory == "" {
            out.append("\(host): no folder to run the agent from: \(HostProbe.agentDirectories.joined(separator: ", ")) "
                       + "are on noexec mounts or not writable by \(user); mount /var/tmp (or the home) without noexec, or log in as another user")
        }
        if sudoAllowed && !isRoot {
            switch sudo {
            case .works: break
            case .needsPassword: out.append(Sudo.message(.needsPassword, host: host, user: user))
            case .missing: out.append(Sudo.message(.missing, host: host, user: user))
            case .refused(let said):
                out.append("\(host): `sudo -n true` failed" + (said.isEmpty ? "" : ": \(said)")
                           + "; allow \(user) passwordless sudo or log in as root with `sudo: false`")
            }
        }
        return out
    }
}
