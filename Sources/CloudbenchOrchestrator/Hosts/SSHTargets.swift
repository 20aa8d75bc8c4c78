import CloudbenchCore
import CloudbenchSSH

/// How an inventory host is reached over SSH: the inventory's values mapped onto `SSHHost`.
public enum SSHTargets {
    /// `10.0.0.4` or `10.0.0.4:2222`: how messages and tables name a host.
    public static func label(_ h: Instance) -> String {
        h.ssh.port == 22 ? h.address : "\(h.address):\(h.ssh.port)"
    }

    public static func sshHost(_ h: Instance) -> SSHHost {
        SSHHost(label: label(h), address: h.address, port: UInt16(h.ssh.port), user: h.ssh.user,
                identity: h.ssh.identity, passphraseEnvironment: h.ssh.identityPassphraseEnv,
                knownHosts: h.ssh.knownHosts, sudo: h.ssh.sudo, jump: h.ssh.jump.map { jumpHost($0, for: h) },
                connectTimeout: h.ssh.connectTimeout.seconds, keepaliveInterval: max(1, Int(h.ssh.keepalive.seconds)))
    }

    /// `[user@]host[:port]`, with the target's key, known_hosts and timeouts.
    static func jumpHost(_ spec: String, for h: Instance) -> SSHHost {
        var user = h.ssh.user, rest = spec
        if let at = spec.firstIndex(of: "@") {
            user = String(spec[..<at])
            rest = String(spec[spec.index(after: at)...])
        }
        var address = rest, port: UInt16 = 22
        if case .ok(let host, let p) = NetworkAddress.parse(rest) {
            address = host
            if let p { port = UInt16(p) }
        }
        return SSHHost(label: "jump \(spec)", address: address, port: port, user: user, identity: h.ssh.identity,
                       passphraseEnvironment: h.ssh.identityPassphraseEnv, knownHosts: h.ssh.knownHosts,
                       connectTimeout: h.ssh.connectTimeout.seconds, keepaliveInterval: max(1, Int(h.ssh.keepalive.seconds)))
    }
}
