import COpenSSL
import CSSH2
import Foundation
#if canImport(Glibc)
import Glibc
#endif

// libssh2_init once per process, before the first session; Swift runs global initialisers once.
// libcrypto first, without its exit handler: by default OpenSSL frees its locks in an atexit
// handler, and a thread still in an SSH call when the process exits (a connection being torn
// down, a cleanup past its caller) then crashes on a freed lock instead of just ending.
private let libssh2Initialised: Int32 = {
    _ = OPENSSL_init_crypto(UInt64(OPENSSL_INIT_NO_ATEXIT), nil)
    return libssh2_init(0)
}()

/// One authenticated SSH connection to a host, with its host key verified.
///
/// Ownership follows libssh2: channels and SFTP handles hold their session alive, a session is
/// used by one thread at a time (it is not `Sendable`), and `deinit` disconnects, then frees.
/// libssh2 runs non-blocking; every wait is a `poll(2)` bounded by a deadline, so a dead or
/// silent host can never hang the caller.
public final class SSHSession {
    public let host: SSHHost
    public internal(set) var authUsed: AuthUsed = .agent("")
    public private(set) var hostKeyStatus: HostKeyStatus = .notChecked
    /// The host key's fingerprint in OpenSSH's `SHA256:…` format.
    public private(set) var hostKeyFingerprint = ""

    let raw: OpaquePointer
    let fd: Int32
    /// Keeps the jump connection (and its pump thread) alive as long as this session.
    private var tunnel: JumpTunnel?
    private var keepaliveEnabled = false
    /// How this session was made, for `sibling()`.
    let policy: HostKeyPolicy
    let socketFactory: SocketFactory
    /// How uploads reach the host, once known (`uploadMethod`).
    var knownUploadMethod: UploadMethod?
    /// The `SSHAbort` generation when the outermost call in progress started, and how deep
    /// calls are nested (an upload runs commands of its own).
    private var callGeneration: Int
    private var callDepth = 1
    private var callDuring = "connecting"
    /// Set when the session was given up (interrupted mid-transfer): every later call throws it.
    public private(set) var givenUp: SSHError?

    /// Connects, verifies the host key against known_hosts and authenticates.
    ///
    /// With a jump host, only the jump connection uses `socketFactory`; this host is then reached
    /// through a direct-tcpip channel opened on the jump host.
    public convenience init(host: SSHHost, policy: HostKeyPolicy = .strict,
                            socketFactory: @escaping SocketFactory = TCPConnector.connect) throws {
        if let jumpHost = host.jump {
            let jump = try SSHSession(host: jumpHost, policy: policy, socketFactory: socketFactory)
            let tunnel = try JumpTunnel.open(through: jump, to: host)
            try self.init(host: host, policy: policy, socketFactory: socketFactory, fd: tunnel.sessionFD, tunnel: tunnel)
        } else {
            let fd: Int32
            do {
                fd = try socketFactory(host.address, host.port, host.connectTimeout)
            } catch let error as SSHError {
                throw error.relabelled(host.description)
            } catch {
                throw SSHError.connectFailed(host: host.description, detail: "\(error)")
            }
            try self.init(host: host, policy: policy, socketFactory: socketFactory, fd: fd, tunnel: nil)
        }
    }

    private init(host: SSHHost, policy: HostKeyPolicy, socketFactory: @escaping SocketFactory, fd: Int32,
                 tunnel: JumpTunnel?) throws {
        precondition(libssh2Initialised == 0, "libssh2_init failed")
        callGeneration = SSHAbort.current
        self.policy = policy
        self.socketFactory = socketFactory
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
            libssh2_keepalive_config(raw, 1, UInt32(host.effectiveKeepalive))
            keepaliveEnabled = true
        }
        callDepth = 0
    }

    /// A new connection to the same host, made the same way (host key policy, socket factory):
    /// what replaces a session that was given up.
    public func sibling() throws -> SSHSession {
        try SSHSession(host: host, policy: policy, socketFactory: socketFactory)
    }

    /// Runs one call (a command, an upload): an interrupt requested while it runs ends it.
    func call<T>(_ during: @autoclosure () -> String, _ body: () throws -> T) throws -> T {
        if let givenUp { throw givenUp }
        if callDepth == 0 {
            callGeneration = SSHAbort.current
            callDuring = during()
        }
        callDepth += 1
        defer { callDepth -= 1 }
        return try body()
    }

    /// Throws `interrupted` (and gives the session up) when an interrupt came after the call began.
    func checkInterrupted() throws {
        guard SSHAbort.current != callGeneration else { return }
        let error = SSHError.interrupted(host: host.description, during: callDuring)
        giveUp(error)
        throw error
    }

    /// Gives the session up: the socket is reset (what was queued for a thin link is dropped,
    /// not sent), and every later call throws `error`.
    func giveUp(_ error: SSHError) {
        guard givenUp == nil else { return }
        givenUp = error
        var drop = linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &drop, socklen_t(MemoryLayout<linger>.size))
        shutdown(fd, Int32(SHUT_RDWR))
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
        try checkInterrupted()
        var waitMs = deadline.remainingMilliseconds
        if waitMs <= 0 { throw onTimeout() }
        // Look again at least every slice whether the call was interrupted.
        waitMs = min(waitMs, SSHAbort.slice)
        if keepaliveEnabled {
            var next: Int32 = 0
            _ = libssh2_keepalive_send(raw, &next)
            if next > 0 { waitMs = min(waitMs, Int32(clamping: Int(next) * 1000)) }
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
        keepaliveEnabled ? Double(host.effectiveKeepalive) * 3 + 1 : nil
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
