import Foundation

/// Everything needed to reach one host over SSH: a plain value the inventory is mapped onto.
public struct SSHHost: Sendable, Hashable, CustomStringConvertible {
    /// The name people know the host by (inventory label), used first in every message.
    public var label: String
    /// Where SSH connects: a DNS name or an IP address.
    public var address: String
    public var port: UInt16
    public var user: String
    /// Private key file; nil means authenticate with ssh-agent (`SSH_AUTH_SOCK`).
    public var identity: String?
    /// Name of the environment variable that holds the key's passphrase (never the passphrase).
    public var passphraseEnvironment: String?
    /// ssh-agent socket; nil means `SSH_AUTH_SOCK` from the environment.
    public var agentSocket: String?
    /// The known_hosts file host keys are checked against and recorded into.
    public var knownHosts: String
    /// Whether commands that need root are wrapped in `sudo -n`.
    public var sudo: Bool
    /// A bastion reached first; the connection to this host is tunnelled through it.
    public var jump: SSHHost? {
        get { jumpBox?.host }
        set { jumpBox = newValue.map(Jump.init) }
    }
    private var jumpBox: Jump?
    /// Seconds allowed for TCP connect, and again for the SSH handshake and for authentication.
    public var connectTimeout: Double
    /// Seconds between SSH keepalives while waiting on a long command; 0 disables them.
    public var keepaliveInterval: Int

    /// Longest keepalive interval used (a day); a larger one is clamped, so the waits derived
    /// from it (milliseconds in an `Int32` for poll) cannot overflow.
    public static let maximumKeepalive = 86_400

    /// `keepaliveInterval` within 0...`maximumKeepalive`.
    var effectiveKeepalive: Int { min(max(keepaliveInterval, 0), SSHHost.maximumKeepalive) }

    /// Box so that `SSHHost` can hold another `SSHHost` (a struct cannot contain itself).
    private final class Jump: Sendable, Hashable {
        let host: SSHHost
        init(_ host: SSHHost) { self.host = host }
        static func == (a: Jump, b: Jump) -> Bool { a.host == b.host }
        func hash(into h: inout Hasher) { h.combine(host) }
    }

    public init(label: String, address: String, port: UInt16 = 22, user: String,
                identity: String? = nil, passphraseEnvironment: String? = nil, agentSocket: String? = nil,
                knownHosts: String = SSHHost.defaultKnownHosts, sudo: Bool = false, jump: SSHHost? = nil,
                connectTimeout: Double = 10, keepaliveInterval: Int = 15) {
        self.label = label
        self.address = address
        self.port = port
        self.user = user
        self.identity = identity.map(SSHHost.expandTilde)
        self.passphraseEnvironment = passphraseEnvironment
        self.agentSocket = agentSocket
        self.knownHosts = SSHHost.expandTilde(knownHosts)
        self.sudo = sudo
        self.jumpBox = jump.map(Jump.init)
        self.connectTimeout = connectTimeout
        self.keepaliveInterval = keepaliveInterval
    }

    /// `web-1 (10.0.0.4:22)`: how every message names the host.
    public var description: String {
        let addr = address.contains(":") ? "[\(address)]" : address
        return label == address ? "\(addr):\(port)" : "\(label) (\(addr):\(port))"
    }

    public static var defaultKnownHosts: String { expandTilde("~/.ssh/known_hosts") }

    static func expandTilde(_ path: String) -> String {
        guard path == "~" || path.hasPrefix("~/") else { return path }
        let home = ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory()
        return home + path.dropFirst()
    }
}

/// What to do with a host whose key is not in known_hosts yet.
public enum HostKeyPolicy: Sendable, Hashable {
    /// Refuse (OpenSSH `StrictHostKeyChecking=yes`): the default.
    case strict
    /// Record the key and continue (`StrictHostKeyChecking=accept-new`); a changed key is still refused.
    case acceptNew
}

/// Opens the TCP connection an SSH session runs over, returning a connected descriptor the
/// session then owns. Tests pass one that connects from inside an isolated network namespace.
public typealias SocketFactory = @Sendable (_ host: String, _ port: UInt16, _ timeout: Double) throws -> Int32
