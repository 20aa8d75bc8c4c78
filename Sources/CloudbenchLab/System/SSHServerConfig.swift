import Foundation

/// The `sshd_config` of one lab instance: root with the lab key only, on its host address.
enum SSHServerConfig {
    static func text(instance: LabInstance, files: LabFiles, usePAM: Bool) -> String {
        """
        # cloudbench lab instance \(instance.id) (namespace \(instance.namespace))
        ListenAddress \(instance.address):22
        HostKey \(files.hostKey(instance))
        PidFile \(files.sshdPidFile(instance))
        AuthorizedKeysFile \(files.authorizedKeys)
        PermitRootLogin prohibit-password
        PubkeyAuthentication yes
        PasswordAuthentication no
        KbdInteractiveAuthentication no
        # The state directory may sit in a world-writable temp dir during tests.
        StrictModes no
        UsePAM \(usePAM ? "yes" : "no")
        PrintMotd no
        PrintLastLog no
        UseDNS no
        MaxStartups 100:30:200
        Subsystem sftp internal-sftp

        """
    }

    /// Without PAM, OpenSSH refuses any login to an account whose password is locked (`!` in
    /// /etc/shadow), keys included; with PAM it asks PAM, which lets key logins in.
    static func rootPasswordIsLocked() -> Bool {
        guard let data = FileManager.default.contents(atPath: "/etc/shadow") else { return false }
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") where line.hasPrefix("root:") {
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            return fields.count > 1 && fields[1].hasPrefix("!")
        }
        return false
    }
}
