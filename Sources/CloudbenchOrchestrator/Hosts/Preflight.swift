import CloudbenchCore
import CloudbenchSSH
import Foundation

/// One host to check, with the role and pair it plays and how to reach it.
public struct PreflightTarget: Sendable {
    /// How messages and tables name the host (`10.0.0.4` or `10.0.0.4:2222`).
    public var label: String
    /// `server` or `client` (or anything the caller names it).
    public var role: String
    public var pair: String
    /// The login user, for messages.
    public var user: String
    /// The inventory's `sudo` setting.
    public var sudoAllowed: Bool
    public var connect: @Sendable () async throws -> RemoteShell

    public init(label: String, role: String, pair: String, user: String, sudoAllowed: Bool,
                connect: @escaping @Sendable () async throws -> RemoteShell) {
        self.label = label
        self.role = role
        self.pair = pair
        self.user = user
        self.sudoAllowed = sudoAllowed
        self.connect = connect
    }

    /// An inventory host, reached through `connector`.
    public init(_ host: Instance, pair: String, connector: HostConnector) {
        let label = SSHTargets.label(host)
        self.init(label: label, role: host.role.rawValue, pair: pair, user: host.ssh.user, sudoAllowed: host.ssh.sudo) {
            try await connector.connect(host, label: label)
        }
    }

    /// Every host of the inventory once, with the role and pair it first appears in.
    public static func all(_ inventory: Inventory, connector: HostConnector) -> [PreflightTarget] {
        var seen: Set<String> = []
        var out: [PreflightTarget] = []
        for pair in inventory.pairs {
            for h in [pair.server, pair.client] where seen.insert(h.endpoint).inserted {
                out.append(PreflightTarget(h, pair: pair.name, connector: connector))
            }
        }
        return out
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
    /// `n/a` (no sudo configured), `ok`, `needs password`, `missing` or `refused`.
    public var sudo: String
    /// `yes`, or `no: <reason>`.
    public var agent: String
    /// Why a run cannot use the host, one sentence each; empty when it is ready.
    public var problems: [String]
    /// How the agent will travel: `sftp` or `exec` (no SFTP subsystem), `+gzip` when the host
    /// can decompress it; `-` when not known.
    public var upload: String = "-"

    public var ready: Bool { problems.isEmpty }
    public var error: String? { problems.isEmpty ? nil : problems.joined(separator: "\n") }
}

/// A checked host: its row, and when it is ready the open connection and its facts.
public struct CheckedHost: Sendable {
    public var row: PreflightRow
    public var shell: RemoteShell?
    public var facts: HostFacts?
}

actor CheckedHosts {
    private var byIndex: [Int: CheckedHost] = [:]
    func set(_ index: Int, _ host: CheckedHost) { byIndex[index] = host }
    func inOrder(count: Int) -> [CheckedHost] { (0..<count).compactMap { byIndex[$0] } }
}

/// The first stage of `compare`, and `cloudbench preflight` run alone: connect to every host in
/// parallel, verify its key, probe it, and judge it by one rule.
public enum Preflight {
    /// Checks every target at once; rows come back in the targets' order.
    public static func check(_ targets: [PreflightTarget], probeTimeout: Double = 20) async -> [CheckedHost] {
        // Children hand their rows to an actor rather than return them: a task group whose
        // children returned tuples with class references was seen to corrupt them in release builds.
        let rows = CheckedHosts()
        await withTaskGroup(of: Void.self) { group in
            for (index, target) in targets.enumerated() {
                group.addTask { await rows.set(index, await check(target, probeTimeout: probeTimeout)) }
            }
        }
        return await rows.inOrder(count: targets.count)
    }

    /// Connects to one host and probes it; a failure becomes the row's problem, never a throw.
    public static func check(_ target: PreflightTarget, probeTimeout: Double = 20) async -> CheckedHost {
        var row = PreflightRow(host: target.label, role: target.role, pair: target.pair, user: target.user, auth: "-",
                               hostKey: .notChecked, arch: "-", kernel: "-", glibc: "-",
                               sudo: target.sudoAllowed ? "-" : "n/a", agent: "-", problems: [])
        let shell: RemoteShell
        do {
            shell = try await target.connect()
        } catch let error as SSHError {
            row.hostKey = hostKeyStatus(for: error)
            row.problems = [error.description]
            return CheckedHost(row: row)
        } catch {
            row.problems = ["\(error)"]
            return CheckedHost(row: row)
        }
        if let c = shell.connection {
            row.auth = c.auth
            row.hostKey = c.hostKey
            row.user = c.user
        }
        let facts: HostFacts
        do {
            facts = try await HostProbe.probe(shell, timeout: probeTimeout)
        } catch {
            row.problems = ["\(error)"]
            return CheckedHost(row: row)
        }
        row.arch = facts.arch
        row.kernel = facts.kernel
        row.glibc = facts.glibc ?? "none"
        if target.sudoAllowed { row.sudo = facts.isRoot && !facts.canSudo ? "n/a (root)" : facts.sudo.label }
        row.agent = facts.agentProblem.map { "no: \($0)" } ?? "yes"
        if let method = try? await shell.uploadMethod() {
            row.upload = method.rawValue + (facts.tools.contains("gzip") ? "+gzip" : "")
        }
        row.problems = facts.problems(host: target.label, user: target.user, sudoAllowed: target.sudoAllowed)
        return CheckedHost(row: row, shell: row.ready ? shell : nil, facts: facts)
    }

    static func hostKeyStatus(for error: SSHError) -> HostKeyStatus {
        switch error {
        case .unknownHostKey: return .unknownRefused
        case .hostKeyChanged: return .changed
        case .hostKeyRevoked: return .revoked
        default: return .notChecked
        }
    }
}
