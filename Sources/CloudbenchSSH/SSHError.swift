import Foundation

/// Why talking to a host failed, as one sentence that names the host and says what to do.
public enum SSHError: Error, Sendable, CustomStringConvertible, Equatable {
    case resolveFailed(host: String, detail: String)
    case connectFailed(host: String, detail: String)
    case connectTimedOut(host: String, seconds: Double)
    case handshakeTimedOut(host: String, seconds: Double)
    case handshakeFailed(host: String, detail: String)
    case unknownHostKey(host: String, keyType: String, fingerprint: String, knownHosts: String)
    case hostKeyChanged(host: String, keyType: String, fingerprint: String, knownHosts: String, line: Int, removeName: String)
    case hostKeyRevoked(host: String, fingerprint: String, knownHosts: String, line: Int)
    case knownHostsUnwritable(host: String, path: String, detail: String)
    case keyFileUnusable(host: String, path: String, detail: String)
    case passphraseMissing(host: String, path: String, variable: String?)
    case rsaUnsupported(host: String, source: String)
    case authenticationFailed(host: String, user: String, detail: String)
    case agentUnavailable(host: String, detail: String)
    case jumpFailed(host: String, jump: String, detail: String)
    case commandTimedOut(host: String, command: String, seconds: Double)
    case connectionLost(host: String, during: String, detail: String)
    case operationTimedOut(host: String, during: String, seconds: Double)
    case protocolError(host: String, during: String, detail: String)
    case sudoNeedsPassword(host: String, user: String)
    case sudoMissing(host: String)
    case uploadFailed(host: String, path: String, detail: String)
    case uploadCorrupted(host: String, path: String, expected: String, actual: String)
    /// An interrupt (`SSHAbort.request`) ended the call during `during`.
    case interrupted(host: String, during: String)

    public var description: String {
        switch self {
        case .resolveFailed(let h, let d):
            return "\(h): cannot resolve the address (\(d)); check `address` in the inventory"
        case .connectFailed(let h, let d):
            return "\(h): cannot connect (\(d)); check that the host is up, the address and port are right, and a firewall allows SSH"
        case .connectTimedOut(let h, let s):
            return "\(h): TCP connect timed out after \(fmt(s)) s; check that the host is up and that a firewall or security group allows SSH from here"
        case .handshakeTimedOut(let h, let s):
            return "\(h): accepted the connection but completed no SSH handshake within \(fmt(s)) s; check that sshd (not another service) listens on that port and is not overloaded"
        case .handshakeFailed(let h, let d):
            return "\(h): SSH handshake failed (\(d)); check that an OpenSSH server listens on that port"
        case .unknownHostKey(let h, let t, let fp, let kh):
            return "\(h): host key is not in \(kh) (\(t) \(fp)); verify the fingerprint out of band, then add it with `ssh-keyscan` or rerun with --accept-new-host-keys to record it"
        case .hostKeyChanged(let h, let t, let fp, let kh, let line, let name):
            return "\(h): host key changed: the host now offers \(t) \(fp), which differs from \(kh):\(line); this may be an attack, so the connection was refused; remove the old entry with `ssh-keygen -R \(name) -f \(kh)` if the change is expected"
        case .hostKeyRevoked(let h, let fp, let kh, let line):
            return "\(h): host key \(fp) is marked @revoked in \(kh):\(line); the connection was refused, ask the host's owner for its new key"
        case .knownHostsUnwritable(let h, let p, let d):
            return "\(h): cannot record the new host key in \(p) (\(d)); fix the file's permissions or point `known_hosts` elsewhere"
        case .keyFileUnusable(let h, let p, let d):
            return "\(h): cannot use key file \(p) (\(d)); check `identity` in the inventory"
        case .passphraseMissing(let h, let p, let v):
            if let v {
                return "\(h): key file \(p) is encrypted and the environment variable \(v) is not set; export \(v) with the passphrase, or load the key into ssh-agent and omit `identity`"
            }
            return "\(h): key file \(p) is encrypted; name an environment variable holding its passphrase in `passphrase_env`, or load the key into ssh-agent and omit `identity`"
        case .rsaUnsupported(let h, let src):
            return "\(h): the server refused the RSA key \(src): this libssh2 (1.10) signs RSA only with SHA-1 (ssh-rsa), which OpenSSH 8.8 and later reject; use an ed25519 or ECDSA key, from a file or from ssh-agent"
        case .authenticationFailed(let h, let u, let d):
            return "\(h): authentication as \(u) failed (\(d)); check that the public key is in ~\(u)/.ssh/authorized_keys on the host and that `user` is right"
        case .agentUnavailable(let h, let d):
            return "\(h): no key file is configured and ssh-agent cannot be used (\(d)); start ssh-agent and `ssh-add` a key, or set `identity` in the inventory"
        case .jumpFailed(let h, let j, let d):
            return "\(h): the jump host \(j) could not open a connection to it (\(d)); check the target's address as seen from the jump host and that the jump host's sshd allows TCP forwarding"
        case .commandTimedOut(let h, let c, let s):
            return "\(h): command `\(c)` did not finish within its \(fmt(s)) s deadline; the host may be overloaded or the command stuck"
        case .connectionLost(let h, let during, let d):
            return "\(h): connection lost during \(during) (\(d)); check that the host is still up and sshd is running"
        case .operationTimedOut(let h, let during, let s):
            return "\(h): no answer during \(during) within \(fmt(s)) s; check that the host and the network to it are up"
        case .protocolError(let h, let during, let d):
            return "\(h): SSH error during \(during) (\(d)); retry, and report it if it persists"
        case .sudoNeedsPassword(let h, let u): return Sudo.message(.needsPassword, host: h, user: u)
        case .sudoMissing(let h): return Sudo.message(.missing, host: h, user: "")
        case .uploadFailed(let h, let p, let d):
            return "\(h): upload to \(p) failed (\(d)); check free space and that the user may write there"
        case .uploadCorrupted(let h, let p, let e, let a):
            return "\(h): upload to \(p) arrived corrupted (SHA-256 \(a.isEmpty ? "unavailable" : a), expected \(e)); it was removed, retry the upload"
        case .interrupted(let h, let during):
            return "\(h): \(during) stopped by an interrupt"
        }
    }

    /// The host's label as the error names it.
    public var hostDescription: String {
        switch self {
        case .resolveFailed(let h, _), .connectFailed(let h, _), .connectTimedOut(let h, _),
             .handshakeTimedOut(let h, _), .handshakeFailed(let h, _), .unknownHostKey(let h, _, _, _),
             .hostKeyChanged(let h, _, _, _, _, _), .hostKeyRevoked(let h, _, _, _), .knownHostsUnwritable(let h, _, _),
             .keyFileUnusable(let h, _, _), .passphraseMissing(let h, _, _), .rsaUnsupported(let h, _),
             .authenticationFailed(let h, _, _), .agentUnavailable(let h, _), .jumpFailed(let h, _, _),
             .commandTimedOut(let h, _, _), .connectionLost(let h, _, _), .operationTimedOut(let h, _, _),
             .protocolError(let h, _, _), .sudoNeedsPassword(let h, _), .sudoMissing(let h),
             .uploadFailed(let h, _, _), .uploadCorrupted(let h, _, _, _), .interrupted(let h, _):
            return h
        }
    }
}

private func fmt(_ s: Double) -> String {
    s == s.rounded() ? String(Int(s)) : String(format: "%.1f", s)
}
