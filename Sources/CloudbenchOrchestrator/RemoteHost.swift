import CloudbenchCore
import CloudbenchSSH
import Foundation

/// What a command run on a host printed, and how it ended.
public struct RemoteOutput: Sendable {
    public var stdout: String
    public var stderr: String
    public var status: Int32

    public init(stdout: String, stderr: String, status: Int32) {
        self.stdout = stdout
        self.stderr = stderr
        self.status = status
    }
}

/// Why talking to a host failed. `unreachable` means the host itself is gone (connection lost,
/// handshake failed), so its remaining cells fail at once instead of each waiting out a timeout.
public enum RemoteError: Error, CustomStringConvertible, Sendable {
    case unreachable(host: String, reason: String)
    case timedOut(host: String, command: String, seconds: Double)
    case failed(host: String, what: String, output: RemoteOutput)

    public var description: String {
        switch self {
        case .unreachable(let h, let r): return "\(h): unreachable: \(r)"
        case .timedOut(let h, let c, let s): return "\(h): '\(c)' did not finish within \(Int(s)) s"
        case .failed(let h, let what, let o):
            let said = RemoteText.sanitised(o.stderr.isEmpty ? o.stdout : o.stderr).trimmingCharacters(in: .whitespacesAndNewlines)
            let last = said.split(separator: "\n").suffix(3).joined(separator: " / ")
            return "\(h): \(what) failed (exit \(o.status))" + (last.isEmpty ? "" : ": \(last)")
        }
    }
}

/// A connection to a host that runs shell commands and copies files (SSH in real runs).
///
/// One connection is used by one cell at a time; implementations may block a thread of their own,
/// and should give up when the calling task is cancelled.
public protocol RemoteShell: AnyObject, Sendable {
    /// How the host is named in messages: the inventory's address and role.
    var label: String { get }
    /// Runs a shell command. Throws `RemoteError.timedOut` after `timeout` seconds and
    /// `.unreachable` when the host is lost.
    func run(_ command: String, timeout: Double) async throws -> RemoteOutput
    /// Copies a local file to the host with `mode`, verified by SHA-256; false when the host
    /// already had the same file.
    func upload(localPath: String, remotePath: String, mode: Int32) async throws -> Bool
}

/// A connected host with what preflight learned about it; runs privileged commands as root,
/// directly or through `sudo -n` when the inventory allows it.
public final class RemoteHost: @unchecked Sendable {
    private let lock = NSLock()
    private var current: RemoteShell
    /// The connection in use; replaced when a lost connection is re-established.
    public var shell: RemoteShell { lock.lock(); defer { lock.unlock() }; return current }
    public let facts: HostFacts
    /// The inventory's `sudo` setting for this host.
    public let sudoAllowed: Bool
    /// The SHA-256 of the agent deployed to this host (it names the agent's file there).
    public let agentSHA: String

    public init(shell: RemoteShell, facts: HostFacts, sudoAllowed: Bool, agentSHA: String) {
        self.current = shell
        self.facts = facts
        self.sudoAllowed = sudoAllowed
        self.agentSHA = agentSHA
    }

    public var label: String { shell.label }

    /// Uses `shell` from now on (after a reconnect).
    public func replaceShell(_ shell: RemoteShell) {
        lock.lock()
        current = shell
        lock.unlock()
    }
    public var isRoot: Bool { facts.isRoot }
    public var canSudo: Bool { sudoAllowed && facts.canSudo }
    public var hasRoot: Bool { isRoot || canSudo }
    public var layout: RemoteLayout { RemoteLayout(home: facts.home) }

    public func run(_ command: String, timeout: Double, privileged: Bool = false) async throws -> RemoteOutput {
        guard privileged && !isRoot else { return try await shell.run(command, timeout: timeout) }
        guard canSudo else {
            throw RemoteError.failed(host: label, what: "a privileged step", output: RemoteOutput(
                stdout: "", stderr: "needs root: log in as root or set 'sudo: true' (with passwordless sudo)", status: 1))
        }
        return try await shell.run("sudo -n sh -c \(shellQuote(command))", timeout: timeout)
    }

    /// Runs a command that must succeed, throwing `RemoteError.failed` naming `what` otherwise.
    @discardableResult
    public func check(_ command: String, what: String, timeout: Double = 30, privileged: Bool = false) async throws -> RemoteOutput {
        let out = try await run(command, timeout: timeout, privileged: privileged)
        guard out.status == 0 else { throw RemoteError.failed(host: label, what: what, output: out) }
        return out
    }
}
