import Foundation

/// One host to check before a run, with the role and pair it plays.
public struct PreflightTarget: Sendable, Hashable {
    public var host: SSHHost
    /// `server` or `client` (or anything the caller names it).
    public var role: String
    public var pair: String

    public init(host: SSHHost, role: String, pair: String) {
        self.host = host
        self.role = role
        self.pair = pair
    }
}

/// What preflight found on one host; `ready` says whether a run can use it.
public struct PreflightRow: Sendable, Hashable {
    public var host: String
    public var role: String
    public var pair: String
    public var user: String
    /// `key id_ed25519`, `agent (comment)`, or `-` when the connection failed first.
    public var auth: String
    public var hostKey: HostKeyStatus
    public var arch: String
    public var kernel: String
    public var glibc: String
    /// `n/a` (no sudo configured), `ok`, `needs password`, or `missing`.
    public var sudo: String
    /// `yes`, or `no: <reason>`.
    public var agent: String
    public var ready: Bool
    public var error: String?
}

/// The oldest glibc the static-stdlib agent binary runs on.
public let agentMinimumGlibc = (2, 34)
/// The architectures the agent is built for (`uname -m`).
public let agentArchitectures = ["x86_64", "aarch64"]

/// Connects to every host in parallel (one thread each, since libssh2 calls block) and
/// reports, per host, whether the benchmark agent can run there.
public func preflight(_ targets: [PreflightTarget], policy: HostKeyPolicy = .strict,
                      socketFactory: @escaping SocketFactory = TCPConnector.connect,
                      commandDeadline: Double = 20) async -> [PreflightRow] {
    await withTaskGroup(of: (Int, PreflightRow).self) { group in
        for (index, target) in targets.enumerated() {
            group.addTask {
                let row = await onSSHThread {
                    Preflight.check(target, policy: policy, socketFactory: socketFactory, commandDeadline: commandDeadline)
                }
                return (index, row)
            }
        }
        var rows = [PreflightRow?](repeating: nil, count: targets.count)
        for await (index, row) in group { rows[index] = row }
        return rows.compactMap { $0 }
    }
}

/// The checks on one host.
enum Preflight {
    static func check(_ target: PreflightTarget, policy: HostKeyPolicy, socketFactory: @escaping SocketFactory,
                      commandDeadline: Double) -> PreflightRow {
        let host = target.host
        var row = PreflightRow(host: host.label, role: target.role, pair: target.pair, user: host.user, auth: "-",
                               hostKey: .notChecked, arch: "-", kernel: "-", glibc: "-", sudo: host.sudo ? "-" : "n/a",
                               agent: "-", ready: false, error: nil)
        let session: SSHSession
        do {
            session = try SSHSession(host: host, policy: policy, socketFactory: socketFactory)
        } catch let error as SSHError {
            row.hostKey = hostKeyStatus(for: error)
            row.error = error.description
            return row
        } catch {
            row.error = "\(host.description): \(error)"
            return row
        }
        row.auth = session.authUsed.description
        row.hostKey = session.hostKeyStatus
        do {
            let facts = try session.exec(
                "uname -m; uname -r; getconf GNU_LIBC_VERSION 2>/dev/null || ldd --version 2>&1 | head -n 1",
                deadline: commandDeadline)
            let lines = facts.stdout.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            row.arch = lines.count > 0 ? lines[0] : "?"
            row.kernel = lines.count > 1 ? lines[1] : "?"
            row.glibc = lines.count > 2 ? glibcVersion(from: lines[2]) ?? "none" : "none"
            if host.sudo {
                do {
                    let probe = try session.exec("true", deadline: commandDeadline, asRoot: true)
                    row.sudo = probe.exitStatus == 0 ? "ok" : "failed (\(probe.exitStatus))"
                } catch SSHError.sudoNeedsPassword {
                    row.sudo = "needs password"
                    row.error = SSHError.sudoNeedsPassword(host: host.description, user: host.user).description
                } catch SSHError.sudoMissing {
                    row.sudo = "missing"
                    row.error = SSHError.sudoMissing(host: host.description).description
                }
            }
        } catch {
            row.error = "\(error)"
            return row
        }
        row.agent = agentVerdict(arch: row.arch, glibc: row.glibc)
        row.ready = row.agent == "yes" && (row.sudo == "n/a" || row.sudo == "ok") && row.error == nil
        return row
    }

    static func hostKeyStatus(for error: SSHError) -> HostKeyStatus {
        switch error {
        case .unknownHostKey: return .unknownRefused
        case .hostKeyChanged: return .changed
        case .hostKeyRevoked: return .revoked
        default: return .notChecked
        }
    }

    /// `glibc 2.36` (getconf) or `ldd (Debian GLIBC 2.36-9+deb12u4) 2.36` (ldd): the last
    /// dotted number; musl's ldd names itself instead.
    static func glibcVersion(from line: String) -> String? {
        if line.lowercased().contains("musl") { return nil }
        let words = line.split(separator: " ")
        return words.last(where: { $0.split(separator: ".").count >= 2 && $0.allSatisfy { $0.isNumber || $0 == "." } })
            .map(String.init)
    }

    static func agentVerdict(arch: String, glibc: String) -> String {
        guard agentArchitectures.contains(arch) else { return "no: \(arch) is not \(agentArchitectures.joined(separator: "/"))" }
        let parts = glibc.split(separator: ".").compactMap { Int($0) }
        guard parts.count >= 2 else { return "no: needs glibc (found \(glibc))" }
        if (parts[0], parts[1]) < agentMinimumGlibc {
            return "no: glibc \(glibc) < \(agentMinimumGlibc.0).\(agentMinimumGlibc.1)"
        }
        return "yes"
    }
}
