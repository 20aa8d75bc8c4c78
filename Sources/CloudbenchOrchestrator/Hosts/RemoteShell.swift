import CloudbenchSSH

/// A connection to a host that runs shell commands and copies files (SSH in real runs).
///
/// One connection is used by one cell at a time; implementations may block a thread of their own,
/// and should give up when the calling task is cancelled.
public protocol RemoteShell: AnyObject, Sendable {
    /// How the host is named in messages: the inventory's address and role.
    var label: String { get }
    /// Runs a shell command, with `input` (when given) on its standard input. Throws
    /// `RemoteError.timedOut` after `timeout` seconds and `.unreachable` when the host is lost.
    /// Secrets travel in `input`, never in `command` (which shows in the host's process list).
    func run(_ command: String, input: String?, timeout: Double) async throws -> CommandOutput
    /// Copies a local file to the host with `mode`, verified by SHA-256; false when the host
    /// already had the same file.
    func upload(localPath: String, remotePath: String, mode: Int32) async throws -> Bool
    /// How the connection was made (login, authentication, host key), when the shell knows.
    var connection: ConnectionInfo? { get }
}

/// How a connection was made, for the preflight table: the login, how it authenticated, what
/// became of the host key.
public struct ConnectionInfo: Sendable, Equatable {
    public var user: String
    /// `key id_ed25519`, `agent (comment)`, or `-`.
    public var auth: String
    public var hostKey: HostKeyStatus

    public init(user: String, auth: String, hostKey: HostKeyStatus) {
        self.user = user
        self.auth = auth
        self.hostKey = hostKey
    }
}

extension RemoteShell {
    public func run(_ command: String, timeout: Double) async throws -> CommandOutput {
        try await run(command, input: nil, timeout: timeout)
    }

    /// Shells that are not SSH sessions (test fakes) say nothing about keys.
    public var connection: ConnectionInfo? { nil }
}
