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
    /// The same, sending `gzipped` (a gzip of `localPath`) for the host to decompress when given;
    /// what arrives is still checked against `localPath`'s SHA-256.
    func upload(localPath: String, remotePath: String, mode: Int32, gzipped: String?) async throws -> Bool
    /// How uploads reach the host (SFTP, or an exec channel without it); nil when the shell
    /// does not say.
    func uploadMethod() async throws -> UploadMethod?
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
    /// The host key's `SHA256:…` fingerprint: one machine reached under two addresses has one.
    public var hostKeyFingerprint: String

    public init(user: String, auth: String, hostKey: HostKeyStatus, hostKeyFingerprint: String = "") {
        self.user = user
        self.auth = auth
        self.hostKey = hostKey
        self.hostKeyFingerprint = hostKeyFingerprint
    }
}

extension RemoteShell {
    public func run(_ command: String, timeout: Double) async throws -> CommandOutput {
        try await run(command, input: nil, timeout: timeout)
    }

    /// Shells that are not SSH sessions (test fakes) say nothing about keys.
    public var connection: ConnectionInfo? { nil }

    /// Shells that are not SSH sessions copy the file itself.
    public func upload(localPath: String, remotePath: String, mode: Int32, gzipped: String?) async throws -> Bool {
        try await upload(localPath: localPath, remotePath: remotePath, mode: mode)
    }

    public func uploadMethod() async throws -> UploadMethod? { nil }
}
