import CloudbenchCore

/// Renders preflight rows as an aligned plain-text table, problems listed beneath it.
public enum PreflightTable {
    public static let columns = ["HOST", "ROLE", "PAIR", "USER", "AUTH", "HOST KEY", "ARCH", "KERNEL", "GLIBC", "SUDO",
                                 "AGENT", "UPLOAD", "READY"]

    public static func render(_ rows: [PreflightRow]) -> String {
        let cells = rows.map { r in
            [r.host, r.role, r.pair, r.user, r.auth, r.hostKey.rawValue, r.arch, r.kernel, r.glibc, r.sudo, r.agent, r.upload,
             r.ready ? "yes" : "NO"]
        }
        var out = TextTable.render([columns] + cells)
        let problems = rows.flatMap(\.problems)
        if !problems.isEmpty { out += "\n" + problems.joined(separator: "\n") + "\n" }
        let ready = rows.filter(\.ready).count
        out += "\n\(ready) of \(rows.count) host\(rows.count == 1 ? "" : "s") ready\n"
        return out
    }
}
