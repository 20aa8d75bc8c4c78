import CSSH2
import Foundation

/// How a session proved who it is, as preflight reports it.
public enum AuthUsed: Sendable, Hashable, CustomStringConvertible {
    case keyFile(String)
    case agent(String)
    /// The server let the user in without any key (`none` authentication).
    case noneRequired

    public var description: String {
        switch self {
        case .keyFile(let path): return "key \((path as NSString).lastPathComponent)"
        case .agent(let comment): return comment.isEmpty ? "agent" : "agent (\(comment))"
        case .noneRequired: return "none"
        }
    }
}

/// Public-key authentication: a key file (passphrase from a named environment variable) or
/// ssh-agent, with its own message for each way it can fail.
extension SSHSession {
    func authenticate() throws {
        let seconds = host.connectTimeout
        let deadline = Deadline(seconds: seconds)
        let timeout = { SSHError.operationTimedOut(host: self.host.description, during: "authentication", seconds: seconds) }
        let user = host.user
        // Asking for the methods also tells whether "none" was enough.
        let methods = try retryPointer(deadline, onTimeout: timeout) {
            libssh2_userauth_list(raw, user, UInt32(user.utf8.count))
        }.map { String(cString: $0) }
        if libssh2_userauth_authenticated(raw) != 0 { authUsed = .noneRequired; return }
        if let methods, !methods.split(separator: ",").contains("publickey") {
            throw SSHError.authenticationFailed(host: host.description, user: user,
                                                detail: "the server does not accept public keys, only: \(methods)")
        }
        if let identity = host.identity {
            try authenticateWithKeyFile(identity, deadline: deadline, timeout: timeout)
        } else {
            try authenticateWithAgent(deadline: deadline)
        }
    }

    private func authenticateWithKeyFile(_ path: String, deadline: Deadline, timeout: () -> SSHError) throws {
        let info: PrivateKeyFile
        do {
            info = try PrivateKeyFile.inspect(path: path)
        } catch PrivateKeyFile.Problem.unreadable(let why) {
            throw SSHError.keyFileUnusable(host: host.description, path: path, detail: why)
        } catch {
            throw SSHError.keyFileUnusable(host: host.description, path: path, detail: "not a private key file")
        }
        var passphrase: String?
        if info.encrypted {
            guard let name = host.passphraseEnvironment, let value = ProcessInfo.processInfo.environment[name] else {
                throw SSHError.passphraseMissing(host: host.description, path: path, variable: host.passphraseEnvironment)
            }
            passphrase = value
        }
        let user = host.user
        let rc = try retry(deadline, onTimeout: timeout) {
            libssh2_userauth_publickey_fromfile_ex(raw, user, UInt32(user.utf8.count), nil, path, passphrase)
        }
        switch rc {
        case 0:
            authUsed = .keyFile(path)
        case LIBSSH2_ERROR_FILE:
            throw SSHError.keyFileUnusable(host: host.description, path: path,
                                           detail: info.encrypted ? "wrong passphrase, or a key format libssh2 cannot read"
                                                                  : "a key format libssh2 cannot read")
        case LIBSSH2_ERROR_AUTHENTICATION_FAILED, LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED:
            if info.isRSA { throw SSHError.rsaUnsupported(host: host.description, source: path) }
            throw SSHError.authenticationFailed(host: host.description, user: user,
                                                detail: "the server refused key \(path)")
        default:
            throw failure(rc, during: "authentication")
        }
    }

    private func authenticateWithAgent(deadline: Deadline) throws {
        let socket = host.agentSocket ?? ProcessInfo.processInfo.environment["SSH_AUTH_SOCK"]
        guard let socket, !socket.isEmpty else {
            throw SSHError.agentUnavailable(host: host.description, detail: "SSH_AUTH_SOCK is not set")
        }
        guard let agent = libssh2_agent_init(raw) else {
            throw SSHError.agentUnavailable(host: host.description, detail: "libssh2 could not set up an agent client")
        }
        defer {
            libssh2_agent_disconnect(agent)
            libssh2_agent_free(agent)
        }
        libssh2_agent_set_identity_path(agent, socket)
        // The agent's own socket is local and blocking; the session part is bounded by the
        // session timeout, which libssh2 honours in blocking mode.
        libssh2_session_set_blocking(raw, 1)
        defer { libssh2_session_set_blocking(raw, 0) }
        guard libssh2_agent_connect(agent) == 0 else {
            throw SSHError.agentUnavailable(host: host.description, detail: "cannot connect to \(socket)")
        }
        guard libssh2_agent_list_identities(agent) == 0 else {
            throw SSHError.agentUnavailable(host: host.description, detail: "the agent at \(socket) did not list its keys")
        }
        var previous: UnsafeMutablePointer<libssh2_agent_publickey>?
        var tried = 0
        var rsaOnly = true
        while true {
            var identity: UnsafeMutablePointer<libssh2_agent_publickey>?
            let rc = libssh2_agent_get_identity(agent, &identity, previous)
            guard rc == 0, let identity else { break }
            previous = identity
            tried += 1
            let blob = Data(bytes: identity.pointee.blob, count: identity.pointee.blob_len)
            if KnownHosts.keyType(ofBlob: blob) != "ssh-rsa" { rsaOnly = false }
            let remaining = deadline.remainingMilliseconds
            if remaining <= 0 {
                throw SSHError.operationTimedOut(host: host.description, during: "authentication", seconds: host.connectTimeout)
            }
            libssh2_session_set_timeout(raw, Int(remaining))
            let auth = libssh2_agent_userauth(agent, host.user, identity)
            libssh2_session_set_timeout(raw, 0)
            if auth == 0 {
                authUsed = .agent(identity.pointee.comment.map { String(cString: $0) } ?? "")
                return
            }
            if auth == LIBSSH2_ERROR_TIMEOUT {
                throw SSHError.operationTimedOut(host: host.description, during: "authentication", seconds: host.connectTimeout)
            }
            if auth != LIBSSH2_ERROR_AUTHENTICATION_FAILED && auth != LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED
                && auth != LIBSSH2_ERROR_AGENT_PROTOCOL {
                throw failure(auth, during: "authentication")
            }
        }
        if tried == 0 {
            throw SSHError.agentUnavailable(host: host.description, detail: "the agent at \(socket) holds no keys")
        }
        if rsaOnly { throw SSHError.rsaUnsupported(host: host.description, source: "from ssh-agent") }
        throw SSHError.authenticationFailed(host: host.description, user: host.user,
                                            detail: "the server refused all \(tried) key(s) in ssh-agent")
    }
}
