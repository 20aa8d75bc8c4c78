import CloudbenchCore
import CloudbenchSSH
import Foundation

/// Connects to inventory hosts over SSH (libssh2), verifying host keys.
public struct SSHConnector: HostConnector {
    public var policy: HostKeyPolicy
    public var socketFactory: SocketFactory

    public init(policy: HostKeyPolicy, socketFactory: @escaping SocketFactory = TCPConnector.connect) {
        self.policy = policy
        self.socketFactory = socketFactory
    }

    public func connect(_ host: Instance, label: String) async throws -> RemoteShell {
        try await connect(SSHTargets.sshHost(host), label: label)
    }

    /// Connects to `target`, verifying its host key; throws `SSHError` when it cannot.
    public func connect(_ target: SSHHost, label: String) async throws -> RemoteShell {
        let policy = self.policy, factory = socketFactory
        let session = try await onSSHThread { SessionBox(try SSHSession(host: target, policy: policy, socketFactory: factory)) }
        return SSHShell(label: label, session: session)
    }
}

/// Carries a session between threads; only one thread uses it at a time (`SSHShell`'s lock).
final class SessionBox: @unchecked Sendable {
    private var current: SSHSession
    init(_ s: SSHSession) { current = s }

    /// The session to use: after an interrupt gave the last one up (`SSHAbort`), a new
    /// connection to the same host, so the cleanup that follows can still reach it.
    var session: SSHSession {
        get throws {
            if case .interrupted? = current.givenUp { current = try current.sibling() }
            return current
        }
    }
}

/// A `RemoteShell` over one SSH session. Calls are serialised: libssh2 sessions are not
/// for concurrent use. Each blocking call runs on a thread of its own (`onSSHThread`).
final class SSHShell: RemoteShell, @unchecked Sendable {
    let label: String
    private let box: SessionBox
    private let lock = NSLock()

    let connection: ConnectionInfo?

    init(label: String, session: SessionBox) {
        self.label = label
        self.box = session
        let s = try! session.session  // a new box holds a live session
        connection = ConnectionInfo(user: s.host.user, auth: s.authUsed.description, hostKey: s.hostKeyStatus,
                                    hostKeyFingerprint: s.hostKeyFingerprint)
    }

    func run(_ command: String, input: String?, timeout: Double) async throws -> CommandOutput {
        let box = self.box, lock = self.lock, label = self.label
        do {
            return try await onSSHThread {
                lock.lock()
                defer { lock.unlock() }
                var r = try box.session.exec(command, deadline: timeout, input: input.map { Array($0.utf8) })
                if r.signal != nil { r.status = 128 }
                return r
            }
        } catch let e as SSHError {
            throw Self.remoteError(e, label: label)
        }
    }

    func upload(localPath: String, remotePath: String, mode: Int32) async throws -> Bool {
        try await upload(localPath: localPath, remotePath: remotePath, mode: mode, gzipped: nil)
    }

    func upload(localPath: String, remotePath: String, mode: Int32, gzipped: String?) async throws -> Bool {
        let box = self.box, lock = self.lock, label = self.label
        do {
            return try await onSSHThread {
                lock.lock()
                defer { lock.unlock() }
                return try box.session.upload(localPath: localPath, remotePath: remotePath, mode: mode,
                                              gzipped: gzipped) != .skippedSameHash
            }
        } catch let e as SSHError {
            throw Self.remoteError(e, label: label)
        }
    }

    func uploadMethod() async throws -> UploadMethod? {
        let box = self.box, lock = self.lock, label = self.label
        do {
            return try await onSSHThread {
                lock.lock()
                defer { lock.unlock() }
                return try box.session.uploadMethod()
            }
        } catch let e as SSHError {
            throw Self.remoteError(e, label: label)
        }
    }

    /// A lost connection means a lost host; a command past its deadline is the cell's problem.
    static func remoteError(_ e: SSHError, label: String) -> Error {
        switch e {
        case .commandTimedOut(_, let command, let seconds): return RemoteError.timedOut(host: label, command: String(command.prefix(60)), seconds: seconds)
        case .connectionLost, .operationTimedOut, .connectFailed, .connectTimedOut, .handshakeTimedOut, .handshakeFailed:
            return RemoteError.unreachable(host: label, reason: "\(e)")
        default: return e
        }
    }
}
