/// Renders preflight rows as an aligned plain-text table, errors listed beneath it.
public enum PreflightTable {
    public static let columns = ["HOST", "ROLE", "PAIR", "USER", "AUTH", "HOST KEY", "ARCH", "KERNEL", "GLIBC", "SUDO",
                                 "AGENT", "READY"]

    public static func render(_ rows: [PreflightRow]) -> String {
        let cells = rows.map { r in
            [r.host, r.role, r.pair, r.user, r.auth, r.hostKey.rawValue, r.arch, r.kernel, r.glibc, r.sudo, r.agent,
             r.ready ? "yes" : "NO"]
        }
        var widths = columns.map(\.count)
        for row in cells {
            for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) }
        }
        func line(_ row: [String]) -> String {
            row.enumerated().map { i, cell in
                i == row.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }
        var out = [line(columns)] + cells.map(line)
        let problems = rows.compactMap { $0.error }
        if !problems.isEmpty {
            out.append("")
            out += problems
        }
        let ready = rows.filter(\.ready).count
        out.append("")
        out.append("\(ready) of \(rows.count) host\(rows.count == 1 ? "" : "s") ready")
        return out.joined(separator: "\n") + "\n"
    }
}
