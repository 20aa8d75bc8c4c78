import Foundation
import CloudbenchCore

/// A horizontal bar chart of throughput per unit of price (the ranking), as plain SVG with no
/// scripts, fonts or external references.
public enum SVGRenderer {
    public static func render(_ m: ReportModel) -> String {
        let rows = m.ranking.filter { $0.throughputPerPrice != nil }
        let unit = m.options.unit.rawValue, cur = NumberFormat.perHour(m.options.currency)
        // Labels are right-aligned before the bars; about 7 px per character at 12 px sans-serif.
        let longest = rows.map { $0.providerName.count + 1 + $0.label.count }.max() ?? 0
        let labelWidth = max(160, Double(longest) * 7 + 16), barWidth = 440.0, valueWidth = 90.0, rowHeight = 22.0, top = 56.0
        let width = labelWidth + barWidth + valueWidth + 20
        let unranked = m.ranking.filter { $0.throughputPerPrice == nil }.map { "\($0.providerName) \($0.label)" }
        let height = top + Double(max(rows.count, 1)) * rowHeight + (unranked.isEmpty ? 30 : 50)
        let maxValue = rows.compactMap(\.throughputPerPrice).max() ?? 1
        var out: [String] = []
        out.append("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(fmt(width))\" height=\"\(fmt(height))\" viewBox=\"0 0 \(fmt(width)) \(fmt(height))\" font-family=\"sans-serif\" font-size=\"12\">")
        out.append("  <title>\(xml(m.title)): \(unit) per \(cur)</title>")
        out.append("  <rect x=\"0\" y=\"0\" width=\"\(fmt(width))\" height=\"\(fmt(height))\" fill=\"#ffffff\"/>")
        out.append("  <text x=\"10\" y=\"22\" font-size=\"15\" font-weight=\"bold\">\(xml(m.title))</text>")
        out.append("  <text x=\"10\" y=\"42\" fill=\"#555555\">Throughput per price: \(xml(unit)) per \(xml(cur)) (host network; longer is better)</text>")
        if rows.isEmpty {
            out.append("  <text x=\"10\" y=\"\(fmt(top + 16))\">n/a: no instance type has both a throughput and a price</text>")
        }
        let colours = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"]
        let providers = Array(Set(rows.map(\.providerName))).sorted()
        for (i, r) in rows.enumerated() {
            let y = top + Double(i) * rowHeight
            let v = r.throughputPerPrice!
            let w = max(1, barWidth * v / maxValue)
            let colour = colours[(providers.firstIndex(of: r.providerName) ?? 0) % colours.count]
            out.append("  <text x=\"\(fmt(labelWidth - 8))\" y=\"\(fmt(y + 15))\" text-anchor=\"end\">\(xml("\(r.providerName) \(r.label)"))</text>")
            out.append("  <rect x=\"\(fmt(labelWidth))\" y=\"\(fmt(y + 3))\" width=\"\(fmt(w))\" height=\"\(fmt(rowHeight - 6))\" fill=\"\(colour)\"/>")
            out.append("  <text x=\"\(fmt(labelWidth + w + 6))\" y=\"\(fmt(y + 15))\">\(NumberFormat.sig3(v))</text>")
        }
        out.append("  <line x1=\"\(fmt(labelWidth))\" y1=\"\(fmt(top))\" x2=\"\(fmt(labelWidth))\" y2=\"\(fmt(top + Double(max(rows.count, 1)) * rowHeight))\" stroke=\"#333333\"/>")
        if !unranked.isEmpty {
            let y = top + Double(max(rows.count, 1)) * rowHeight + 24
            out.append("  <text x=\"10\" y=\"\(fmt(y))\" fill=\"#555555\">Not shown (no price, exchange rate or throughput): \(xml(unranked.joined(separator: ", ")))</text>")
        }
        out.append("</svg>")
        return out.joined(separator: "\n") + "\n"
    }

    static func fmt(_ x: Double) -> String {
        let s = String(format: "%.1f", x)
        return s.hasSuffix(".0") ? String(s.dropLast(2)) : s
    }

    static func xml(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
