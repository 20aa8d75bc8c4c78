import Foundation

/// How an instance's sshd is started: in its namespace, with its own `/root` and `/tmp`.
///
/// Instances share the machine's filesystem, but cloud instances do not: without private
/// directories, an agent uploaded to one instance would appear on all of them, and uploading
/// it to a second instance while the first runs it fails with "text file busy". So sshd runs in a
/// private mount namespace with an empty tmpfs on root's home and on /tmp; every SSH session
/// inherits it, and the mounts vanish with the instance's last process.
enum SSHServerLaunch {
    /// Directories made private per instance: root's home and /tmp, except one that holds the
    /// state directory (sshd reads its config, keys and authorized_keys from there).
    static func privateDirectories(stateDirectory: String, home: String = rootHome()) -> [String] {
        [home, "/tmp"].filter { dir in
            dir != "/" && stateDirectory != dir && !stateDirectory.hasPrefix(dir.hasSuffix("/") ? dir : dir + "/")
        }
    }

    /// Where an instance with a packet-rate limit finds its stand-in `ethtool`: first on the PATH
    /// sshd gives root (`/usr/local/sbin:/usr/local/bin:/usr/sbin:…`), on a tmpfs of its own.
    static let standInDirectory = "/usr/local/sbin"

    /// The argv that starts sshd (which then daemonizes and writes its pid file). `standInEthtool`:
    /// a script copied to `standInDirectory/ethtool` in the instance's own mount namespace.
    static func argv(instance: LabInstance, files: LabFiles, sshd: String, privateDirectories: [String],
                     standInEthtool: String? = nil) -> [String] {
        let daemon = [sshd, "-f", files.sshdConfig(instance), "-E", files.sshdLog(instance)]
        guard !privateDirectories.isEmpty || standInEthtool != nil else { return ["ip", "netns", "exec", instance.namespace] + daemon }
        var mounts = privateDirectories.map { dir in
            "mount -t tmpfs -o mode=\(dir == "/tmp" ? "1777" : "0700"),size=2g cloudbench-lab \(dir)"
        }
        if let standInEthtool {
            // The script's path is in the user's state directory: single-quoted for the shell.
            let quoted = "'" + standInEthtool.replacingOccurrences(of: "'", with: "'\\''") + "'"
            mounts.append("mount -t tmpfs -o mode=0755,size=1m cloudbench-lab \(standInDirectory) && cp \(quoted) \(standInDirectory)/ethtool")
        }
        // The directories come from this code, never from a user, so plain interpolation is safe;
        // the sshd arguments pass through "$@" untouched.
        return ["ip", "netns", "exec", instance.namespace, "unshare", "--mount", "--propagation", "private",
                "sh", "-c", mounts.joined(separator: " && ") + " && exec \"$0\" \"$@\""] + daemon
    }

    static func rootHome() -> String {
        guard let entry = getpwuid(0), let dir = entry.pointee.pw_dir else { return "/root" }
        return String(cString: dir)
    }
}
