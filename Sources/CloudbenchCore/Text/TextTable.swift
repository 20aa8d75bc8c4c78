/// Plain-text columns for a terminal: left-aligned, two spaces apart, the last column unpadded.
///
/// The one table layout of the CLI's own output (plan, preflight, status, prices, lab); the
/// published tables are markdown, made by CloudbenchReport.
public struct TextTable: Sendable {
    /// Each column's width; a cell wider than its column pushes the rest of its line along.
    public var widths: [Int]

    public init(widths: [Int]) { self.widths = widths }

    /// Widths that fit every row.
    public init(fitting rows: [[String]]) {
        var widths = [Int](repeating: 0, count: rows.map(\.count).max() ?? 0)
        for r in rows { for (i, c) in r.enumerated() { widths[i] = max(widths[i], c.count) } }
        self.widths = widths
    }

    /// One line, without a newline.
    public func line(_ row: [String]) -> String {
        row.enumerated().map { i, c in
            i == row.count - 1 || i >= widths.count ? c : c + String(repeating: " ", count: max(0, widths[i] - c.count))
        }.joined(separator: "  ")
    }

    /// Every row fitted and aligned, one a line, each ending in a newline.
    public static func render(_ rows: [[String]]) -> String {
        let table = TextTable(fitting: rows)
        return rows.map(table.line).joined(separator: "\n") + "\n"
    }
}
