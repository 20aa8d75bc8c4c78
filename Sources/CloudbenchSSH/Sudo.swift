/// How cloudbench runs a command as root on a host that allows passwordless sudo, and how it
/// recognises a sudo that refuses: the one wrapper, used by `exec(asRoot:)`, by compare's
/// privileged steps and by the host probe.
public enum Sudo {
    /// Why sudo did not run a command.
    public enum Refusal: Sendable, Equatable {
        /// sudo wants a password (or a terminal to ask for one).
        case needsPassword
        /// There is no sudo on the host.
        case missing
    }

    /// `command` run by `sh` under `sudo -n` (never prompting: a prompt would hang the session).
    public static func wrap(_ command: String) -> String {
        "sudo -n -- sh -c \(shellQuote(command))"
    }

    /// Whether a wrapped command's exit status and stderr mean that sudo itself refused.
    public static func refusal(status: Int32, stderr: String) -> Refusal? {
        if status == 1 && (stderr.contains("a password is required") || stderr.contains("a terminal is required")) {
            return .needsPassword
        }
        if status == 127 && stderr.contains("sudo") && stderr.contains("not found") { return .missing }
        return nil
    }

    /// The sentence a person reads for a refusal on `host` logged in as `user`.
    public static func message(_ refusal: Refusal, host: String, user: String) -> String {
        switch refusal {
        case .needsPassword:
            return "\(host): sudo asks \(user) for a password; allow passwordless sudo for \(user) (NOPASSWD in sudoers) or log in as root with `sudo: false`"
        case .missing:
            return "\(host): `sudo` is not installed; install it or log in as root with `sudo: false`"
        }
    }
}
