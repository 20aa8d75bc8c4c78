import CloudbenchCore
import CloudbenchSSH
import Foundation

/// A connected host with what the probe learned about it; runs privileged commands as root,
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
    /// Commands running on the host now (the lease renewal skips a host whose session is busy:
    /// the session runs one command at a time, and a running client renews the lease itself).
    private var running = 0
    public var isBusy: Bool { lock.lock(); defer { lock.unlock() }; return running > 0 }
    /// When the host's lease was last known renewed: by the orchestrator's `touch`, or by the
    /// agents of a cell that just finished (the server renews it as a test starts and ends, the
    /// client as it ends).
    private var renewed: Date?

    /// Notes that the host's lease was renewed at `time`.
    public func leaseRenewed(at time: Date = Date()) { lock.withLock { renewed = max(renewed ?? time, time) } }
    /// Whether the lease was renewed less than `seconds` ago.
    public func leaseRenewed(within seconds: Double, now: Date = Date()) -> Bool {
        lock.withLock { renewed.map { now.timeIntervalSince($0) < seconds } ?? false }
    }

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
    public var layout: RemoteLayout { RemoteLayout(home: facts.home, agentDirectory: facts.agentDirectory) }

    public func run(_ command: String, input: String? = nil, timeout: Double, privileged: Bool = false) async throws -> CommandOutput {
        lock.withLock { running += 1 }
        defer { lock.withLock { running -= 1 } }
        guard privileged && !isRoot else { return try await shell.run(command, input: input, timeout: timeout) }
        guard canSudo else {
            throw RemoteError.failed(host: label, what: "a privileged step", output: CommandOutput(
                status: 1, stdout: "", stderr: "needs root: log in as root or set 'sudo: true' (with passwordless sudo)"))
        }
        let out = try await shell.run(Sudo.wrap(command), input: input, timeout: timeout)
        if let refusal = Sudo.refusal(status: out.status, stderr: out.stderr) {
            throw RemoteError.failed(host: label, what: "a privileged step", output: CommandOutput(
                status: out.status, stdout: "", stderr: Sudo.message(refusal, host: label, user: "the login user")))
        }
        return out
    }

    /// Runs a command that must succeed, throwing `RemoteError.failed` naming `what` otherwise.
    @discardableResult
    public func check(_ command: String, input: String? = nil, what: String, timeout: Double = 30,
                      privileged: Bool = false) async throws -> CommandOutput {
        let out = try await run(command, input: input, timeout: timeout, privileged: privileged)
        guard out.status == 0 else { throw RemoteError.failed(host: label, what: what, output: out) }
        return out
    }
}
