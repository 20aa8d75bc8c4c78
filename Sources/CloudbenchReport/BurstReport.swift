import CloudbenchCore
import Foundation

/// One measured cell that ran on burst credit: its record's burst and per-second timeline.
public struct BurstCell: Hashable, Sendable {
    public var recordID: String
    public var providerName: String
    public var type: String
    public var pair: String
    public var path: String
    public var repetition: Int
    public var burst: Burst
    public var timeline: ThroughputTimeline

    /// The timeline chart's file name, written beside the report: unique per record, stable.
    public var timelineFile: String {
        let safe = recordID.map { c -> Character in
            c.isASCII && (c.isLetter || c.isNumber || c == "." || c == "_" || c == "-") ? c : "-"
        }
        return "burst-" + String(safe) + ".svg"
    }
}

/// The report's burst section: a table under the throughput tables, and a timeline SVG per cell.
///
/// A `tcp_bw` record with `detail.burst` (found by `BurstDetector` when `compare` recorded it)
/// has the sustained rate as its value, so the tables above already show what the instance holds;
/// this section shows the burst rate beside it, how long it lasted, and the cell's intervals.
public enum BurstReport {
    /// Every ok `tcp_bw` record with a burst, by provider, type, pair, path, repetition, id.
    public static func cells(records: [ResultRecord], catalog: Catalog) -> [BurstCell] {
        var out: [BurstCell] = []
        // Fields read through the buffer: binding each record would copy (retain) all its fields.
        records.withUnsafeBufferPointer { rs in
            for i in rs.indices where rs[i].status == .ok && rs[i].test == TestKind.tcpBandwidth.rawValue {
                guard let burst = Burst(json: rs[i].detailView?["burst"]?.value), let timeline = ThroughputTimeline(view: rs[i].detailView) else { continue }
                let r = rs[i]
                out.append(BurstCell(recordID: r.id, providerName: catalog.displayName(of: r.provider), type: r.type, pair: r.pair,
                                     path: r.path, repetition: r.repetition, burst: burst, timeline: timeline))
            }
        }
        return out.sorted {
            ($0.providerName, $0.type, $0.pair, $0.path, $0.repetition, $0.recordID)
                < ($1.providerName, $1.type, $1.pair, $1.path, $1.repetition, $1.recordID)
        }
    }

    /// Markdown lines (empty when no cell burst); `linked` adds a link to each timeline SVG.
    public static func markdown(_ cells: [BurstCell], unit: ReportOptions.ThroughputUnit, linked: Bool) -> [String] {
        guard !cells.isEmpty else { return [] }
        var out = ["## Burst credits", "",
                   "These cells sent at a burst rate until a credit ran out, then at a lower rate they held to the end "
                   + "of the test. The tables show the sustained rate, the one the instance can hold; the burst lasted "
                   + "the seconds given (of the measured window, after the warm-up).", ""]
        let u = unit.rawValue
        out.append("| provider | instance type | pair | path | rep | burst (\(u)) | burst for (s) | sustained (\(u)) |"
                   + (linked ? " timeline |" : ""))
        out.append("|---|---|---|---|--:|--:|--:|--:|" + (linked ? "---|" : ""))
        for c in cells {
            let burst = NumberFormat.sig3(c.burst.burstBytesPerSecond / 1e6 * unit.factor)
            let sustained = NumberFormat.sig3(c.burst.sustainedBytesPerSecond / 1e6 * unit.factor)
            out.append("| \(c.providerName) | \(c.type) | \(c.pair) | \(c.path) | \(c.repetition) | \(burst) | "
                       + String(format: "%.1f", c.burst.burstSeconds) + " | \(sustained) |"
                       + (linked ? " [chart](\(c.timelineFile)) |" : ""))
        }
        out.append("")
        return out
    }

    /// The cell's per-interval throughput as bars, with the two fitted levels and the drop marked.
    public static func timelineSVG(_ c: BurstCell, unit: ReportOptions.ThroughputUnit) -> String {
        let rates = c.timeline.rates.map { $0 / 1e6 * unit.factor }
        let high = c.burst.burstBytesPerSecond / 1e6 * unit.factor, low = c.burst.sustainedBytesPerSecond / 1e6 * unit.factor
        let left = 60.0, top = 50.0, plotW = 560.0, plotH = 180.0
        let width = left + plotW + 20, height = top + plotH + 50
        let maxValue = max(rates.max() ?? 0, high) * 1.1
        let n = max(1, rates.count)
        let step = plotW / Double(n)
        func y(_ v: Double) -> Double { top + plotH - plotH * v / maxValue }
        let f = SVGCanvas.fmt, xml = SVGCanvas.xml
        let title = "\(c.providerName) \(c.type), pair \(c.pair), \(c.path), repetition \(c.repetition)"
        var out: [String] = []
        out.append("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(f(width))\" height=\"\(f(height))\" viewBox=\"0 0 \(f(width)) \(f(height))\" font-family=\"sans-serif\" font-size=\"12\">")
        out.append("  <title>\(xml(title)): throughput per \(f(c.timeline.intervalSeconds)) s</title>")
        out.append("  <rect x=\"0\" y=\"0\" width=\"\(f(width))\" height=\"\(f(height))\" fill=\"#ffffff\"/>")
        out.append("  <text x=\"10\" y=\"20\" font-size=\"14\" font-weight=\"bold\">\(xml(title))</text>")
        out.append("  <text x=\"10\" y=\"38\" fill=\"#555555\">\(xml(unit.rawValue)) per \(f(c.timeline.intervalSeconds)) s interval: burst "
                   + "\(NumberFormat.sig3(high)) for \(String(format: "%.1f", c.burst.burstSeconds)) s, then \(NumberFormat.sig3(low)) sustained</text>")
        for (i, v) in rates.enumerated() {
            let x = left + Double(i) * step
            let colour = Double(i + 1) * c.timeline.intervalSeconds <= c.burst.burstSeconds ? "#ff7f0e" : "#1f77b4"
            out.append("  <rect x=\"\(f(x + 1))\" y=\"\(f(y(v)))\" width=\"\(f(max(1, step - 2)))\" height=\"\(f(top + plotH - y(v)))\" fill=\"\(colour)\"/>")
        }
        let drop = left + plotW * c.burst.burstSeconds / (Double(n) * c.timeline.intervalSeconds)
        out.append("  <line x1=\"\(f(left))\" y1=\"\(f(y(high)))\" x2=\"\(f(drop))\" y2=\"\(f(y(high)))\" stroke=\"#333333\" stroke-dasharray=\"4 3\"/>")
        out.append("  <line x1=\"\(f(drop))\" y1=\"\(f(y(low)))\" x2=\"\(f(left + plotW))\" y2=\"\(f(y(low)))\" stroke=\"#333333\" stroke-dasharray=\"4 3\"/>")
        out.append("  <line x1=\"\(f(drop))\" y1=\"\(f(top))\" x2=\"\(f(drop))\" y2=\"\(f(top + plotH))\" stroke=\"#d62728\"/>")
        out.append("  <line x1=\"\(f(left))\" y1=\"\(f(top + plotH))\" x2=\"\(f(left + plotW))\" y2=\"\(f(top + plotH))\" stroke=\"#333333\"/>")
        out.append("  <line x1=\"\(f(left))\" y1=\"\(f(top))\" x2=\"\(f(left))\" y2=\"\(f(top + plotH))\" stroke=\"#333333\"/>")
        out.append("  <text x=\"\(f(left - 6))\" y=\"\(f(y(high) + 4))\" text-anchor=\"end\">\(NumberFormat.sig3(high))</text>")
        out.append("  <text x=\"\(f(left - 6))\" y=\"\(f(y(low) + 4))\" text-anchor=\"end\">\(NumberFormat.sig3(low))</text>")
        out.append("  <text x=\"\(f(left - 6))\" y=\"\(f(top + plotH + 4))\" text-anchor=\"end\">0</text>")
        out.append("  <text x=\"\(f(left))\" y=\"\(f(top + plotH + 18))\">0 s</text>")
        out.append("  <text x=\"\(f(left + plotW))\" y=\"\(f(top + plotH + 18))\" text-anchor=\"end\">\(f(Double(n) * c.timeline.intervalSeconds)) s</text>")
        out.append("  <text x=\"\(f(left + plotW / 2))\" y=\"\(f(top + plotH + 36))\" text-anchor=\"middle\" fill=\"#555555\">seconds of the measured window (after the warm-up)</text>")
        out.append("</svg>")
        return out.joined(separator: "\n") + "\n"
    }

    /// Writes each cell's timeline beside the markdown report at `reportPath`; returns the paths.
    @discardableResult
    public static func writeTimelines(_ cells: [BurstCell], unit: ReportOptions.ThroughputUnit, besideReport reportPath: String,
                                      write: (String, String) throws -> Void) rethrows -> [String] {
        let directory = (reportPath as NSString).deletingLastPathComponent
        return try cells.map { c in
            let path = directory.isEmpty ? c.timelineFile : "\(directory)/\(c.timelineFile)"
            try write(timelineSVG(c, unit: unit), path)
            return path
        }
    }
}
