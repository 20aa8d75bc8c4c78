import CSSH2
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// How a session proved who it is, as preflight reports it.
public enum AuthUsed: Sendable, Hashable, CustomStringConvertible {
    case keyFile(String)
    case agent(String)

    public var description: String {
        switch self {
        case .keyFile(let path): return "key \((path as NSString).lastPathComponent)"
        case .agent(let comment): return comment.isEmpty ? "agent" : "agent (\(comment))"
        }
    }
}

// libssh2_init once per process, before the first session; Swift runs global initialisers once.
private let libssh2Initialised: Int32 = libssh2_init(0)

/// One authenticated SSH connection to a host, with its host key verified.
///
/// Ownership follows libssh2: channels and SFTP handles hold their session alive, a session is
/// used by one thread at a time (it is not `Sendable`), and `deinit` disconnects, then frees.
/// libssh2 runs non-blocking; every wait is a `poll(2)` bounded by a deadline, so a dead or
/// silent host can never hang the caller.
public final class SSHSession {
    public let host: SSHHost
    public private(set) var authUsed: AuthUsed = .agent("")
    public private(set) var hostKeyStatus: HostKeyStatus = .notChecked
    /// The host key's fingerprint in OpenSSH's `SHA256:…` format.
    public private(set) var hostKeyFingerprint = ""

    let raw: OpaquePointer
    let fd: Int32
    /// Keeps the jump connection (and its pump thread) alive as long as this session.
    private var tunnel: JumpTunnel?
    private var keepaliveEnabled = false

    /// Connects, verifies the host key against known_hosts and authenticates.
    ///
    /// With a jump host, only the jump connection uses `socketFactory`; this host is then reached
    /// through a direct-tcpip channel opened on the jump host.
    public convenience init(host: SSHHost, policy: HostKeyPolicy = .strict,
                            socketFactory: @escaping SocketFactory = TCPConnector.connect) throws {
        if let jumpHost = host.jump {
            let jump = try SSHSession(host: jumpHost, policy: policy, socketFactory: socketFactory)
            let tunnel = try JumpTunnel.open(through: jump, to: host)
            try self.init(host: host, policy: policy, fd: tunnel.sessionFD, tunnel: tunnel)
        } else {
            let fd: Int32
            do {
                fd = try socketFactory(host.address, host.port, host.connectTimeout)
            } catch let error as SSHError {
                throw error.relabelled(host.description)
            } catch {
                throw SSHError.connectFailed(host: host.description, detail: "\(error)")
            }
            try self.init(host: host, policy: policy, fd: fd, tunnel: nil)
        }
    }

    private init(host: SSHHost, policy: HostKeyPolicy, fd: Int32, tunnel: JumpTunnel?) throws {
        precondition(libssh2Initialised == 0, "libssh2_init failed")
        self.host = host
        self.fd = fd
        self.tunnel = tunnel
        guard let raw = libssh2_session_init_ex(nil, nil, nil, nil) else {
            close(fd)
            throw SSHError.protocolError(host: host.description, during: "session setup", detail: "libssh2 could not allocate a session")
        }
        self.raw = raw
        // From here on deinit owns raw and fd.
        libssh2_session_set_blocking(raw, 0)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, socklen_t(MemoryLayout<Int32>.size))
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        try handshake()
        try verifyHostKey(policy: policy)
        try authenticate()
        if host.keepaliveInterval > 0 {
            libssh2_keepalive_config(raw, 1, UInt32(host.keepaliveInterval))
            keepaliveEnabled = true
        }
    }

    deinit {
        // Disconnect politely but briefly: a dead host must not delay cleanup.
        let bye = Deadline(seconds: 1)
        while libssh2_session_disconnect_ex(raw, SSH_DISCONNECT_BY_APPLICATION, "cloudbench done", "") == LIBSSH2_ERROR_EAGAIN,
              !bye.expired {
            var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            _ = poll(&pfd, 1, bye.remainingMilliseconds)
        }
        // After shutdown any I/O that libssh2_session_free still attempts fails at once.
        shutdown(fd, Int32(SHUT_RDWR))
        libssh2_session_set_blocking(raw, 1)
        libssh2_session_set_timeout(raw, 1000)
        libssh2_session_free(raw)
        close(fd)
        tunnel?.finish()
    }

    // MARK: - Waiting

    /// Runs a libssh2 call until it stops asking to be retried, polling the socket in between.
    @discardableResult
    func retry(_ deadline: Deadline, onTimeout: () -> SSHError, _ call: () -> Int32) throws -> Int32 {
        while true {
            let rc = call()
            if rc != LIBSSH2_ERROR_EAGAIN { return rc }
            try waitSocket(deadline, onTimeout: onTimeout)
        }
    }

    /// Same for calls that return a pointer and signal "retry" through the session's errno.
    func retryPointer<T>(_ deadline: Deadline, onTimeout: () -> SSHError, _ call: () -> T?) throws -> T? {
        while true {
            if let p = call() { return p }
            guard libssh2_session_last_errno(raw) == LIBSSH2_ERROR_EAGAIN else { return nil }
            try waitSocket(deadline, onTimeout: onTimeout)
        }
    }

    /// Waits until the socket is ready in the direction libssh2 is blocked on, sending
    /// keepalives when due; throws `onTimeout()` at the deadline. Returns whether the host
    /// sent something (the socket became readable).
    @discardableResult
    func waitSocket(_ deadline: Deadline, onTimeout: () -> SSHError) throws -> Bool {
        var waitMs = deadline.remainingMilliseconds
        if waitMs <= 0 { throw onTimeout() }
        if keepaliveEnabled {
            var next: Int32 = 0
            _ = libssh2_keepalive_send(raw, &next)
            if next > 0 { waitMs = min(waitMs, next * 1000) }
        }
        let dirs = libssh2_session_block_directions(raw)
        var events: Int16 = 0
        if dirs & LIBSSH2_SESSION_BLOCK_INBOUND != 0 { events |= Int16(POLLIN) }
        if dirs & LIBSSH2_SESSION_BLOCK_OUTBOUND != 0 { events |= Int16(POLLOUT) }
        if events == 0 { events = Int16(POLLIN) }
        var pfd = pollfd(fd: fd, events: events, revents: 0)
        let n = poll(&pfd, 1, waitMs)
        if n < 0 && errno != EINTR {
            throw SSHError.connectionLost(host: host.description, during: "waiting", detail: String(cString: strerror(errno)))
        }
        return n > 0 && pfd.revents & Int16(POLLIN | POLLHUP | POLLERR) != 0
    }

    /// Seconds of silence after which a host that ignores keepalives counts as gone
    /// (OpenSSH's ServerAliveInterval × ServerAliveCountMax 3); nil without keepalives.
    var silenceLimit: Double? {
        keepaliveEnabled ? Double(host.keepaliveInterval * 3) + 1 : nil
    }

    /// The session's last error as text, for messages.
    func lastError() -> (code: Int32, message: String) {
        var msg: UnsafeMutablePointer<CChar>?
        var len: Int32 = 0
        let code = libssh2_session_last_error(raw, &msg, &len, 0)
        return (code, msg.map { String(cString: $0) } ?? "error \(code)")
    }

    /// Maps a failed libssh2 return code onto an `SSHError` for `during`.
    func failure(_ rc: Int32, during: String) -> SSHError {
        let detail = lastError().message
        switch rc {
        case LIBSSH2_ERROR_SOCKET_DISCONNECT, LIBSSH2_ERROR_SOCKET_RECV, LIBSSH2_ERROR_SOCKET_SEND,
             LIBSSH2_ERROR_SOCKET_TIMEOUT, LIBSSH2_ERROR_BAD_SOCKET:
            return .connectionLost(host: host.description, during: during, detail: detail)
        default:
            return .protocolError(host: host.description, during: during, detail: detail)
        }
    }

    // MARK: - Handshake and host key

    private func handshake() throws {
        let known = KnownHosts(path: host.knownHosts).knownTypes(host: host.address, port: host.port)
        // Ask first for a key type known_hosts already has, as OpenSSH does; otherwise a host
        // with an ECDSA entry that also offers ed25519 would look "unknown".
        let preferred = ["ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
                         "rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"]
        let order = known.filter(preferred.contains) + preferred.filter { !known.contains($0) }
        _ = libssh2_session_method_pref(raw, LIBSSH2_METHOD_HOSTKEY, order.joined(separator: ","))
        let seconds = host.connectTimeout
        let deadline = Deadline(seconds: seconds)
        let rc = try retry(deadline, onTimeout: { .handshakeTimedOut(host: host.description, seconds: seconds) }) {
            libssh2_session_handshake(raw, fd)
        }
        guard rc == 0 else {
            let detail = lastError().message
            switch rc {
            case LIBSSH2_ERROR_SOCKET_DISCONNECT, LIBSSH2_ERROR_SOCKET_RECV, LIBSSH2_ERROR_BANNER_RECV:
                throw SSHError.handshakeFailed(host: host.description, detail: "the connection was closed before the handshake finished: \(detail)")
            default:
                throw SSHError.handshakeFailed(host: host.description, detail: detail)
            }
        }
    }

    private func verifyHostKey(policy: HostKeyPolicy) throws {
        var len = 0
        var type: Int32 = 0
        guard let ptr = libssh2_session_hostkey(raw, &len, &type), len > 0 else {
            throw SSHError.protocolError(host: host.description, during: "host key check", detail: "the server sent no host key")
        }
        let blob = Data(bytes: ptr, count: len)
        let keyType = KnownHosts.keyType(ofBlob: blob) ?? "unknown"
        hostKeyFingerprint = Digest.fingerprint(blob)
        let file = KnownHosts(path: host.knownHosts)
        switch file.match(host: host.address, port: host.port, keyType: keyType, key: blob) {
        case .matches:
            hostKeyStatus = .known
        case .mismatch(let line):
            hostKeyStatus = .changed
            throw SSHError.hostKeyChanged(host: host.description, keyType: keyType, fingerprint: hostKeyFingerprint,
                                          knownHosts: host.knownHosts, line: line,
                                          removeName: shellQuote(KnownHosts.hostName(host.address, port: host.port)))
        case .revoked(let line):
            hostKeyStatus = .revoked
            throw SSHError.hostKeyRevoked(host: host.description, fingerprint: hostKeyFingerprint, knownHosts: host.knownHosts, line: line)
        case .notFound:
            guard policy == .acceptNew else {
                hostKeyStatus = .unknownRefused
                throw SSHError.unknownHostKey(host: host.description, keyType: keyType, fingerprint: hostKeyFingerprint,
                                              knownHosts: host.knownHosts)
            }
            do {
                try KnownHosts.append(path: host.knownHosts, host: host.address, port: host.port, keyType: keyType, key: blob)
            } catch {
                throw SSHError.knownHostsUnwritable(host: host.description, path: host.knownHosts, detail: "\(error.localizedDescription)")
            }
            hostKeyStatus = .newRecorded
        }
    }

    // MARK: - Authentication

    private func authenticate() throws {
        let seconds = host.connectTimeout
        let deadline = Deadline(seconds: seconds)
        let timeout = { SSHError.operationTimedOut(host: self.host.description, during: "authentication", seconds: seconds) }
        let user = host.user
        // Asking for the methods also tells whether "none" was enough.
        let methods = try retryPointer(deadline, onTimeout: timeout) {
            libssh2_userauth_list(raw, user, UInt32(user.utf8.count))
        }.map { String(cString: $0) }
        if libssh2_userauth_authenticated(raw) != 0 { authUsed = .agent("none"); return }
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

extension SSHError {
    /// The same error naming `label` instead of the bare address the socket factory knew.
    func relabelled(_ label: String) -> SSHError {
        switch self {
        case .resolveFailed(_, let d): return .resolveFailed(host: label, detail: d)
        case .connectFailed(_, let d): return .connectFailed(host: label, detail: d)
        case .connectTimedOut(_, let s): return .connectTimedOut(host: label, seconds: s)
        default: return self
        }
    }
}
