import Foundation

/// The one drawing toolkit of the report's charts: plain SVG 1.1 elements (no scripts, no
/// external fonts or references, so GitHub renders it as an image), a linear scale with round
/// ticks, axes with labels, bars, error bars, lines and a legend. Coordinates are pixels from the
/// top left; every number is written with at most one decimal so the same input gives the same bytes.
struct SVGCanvas {
    enum Anchor: String { case start, middle, end }

    /// Colours that stay apart for the common kinds of colour blindness (Okabe–Ito, darkened yellow).
    static let palette = ["#0072b2", "#e69f00", "#009e73", "#d55e00", "#cc79a7", "#56b4e9", "#8a7a00", "#000000"]
    static let ink = "#222222", muted = "#555555", grid = "#dddddd"
    /// Roughly the width of one character at 12 px sans-serif.
    static let charWidth = 6.6

    let width: Double
    let height: Double
    private var body: [String] = []

    init(width: Double, height: Double, title: String) {
        self.width = width
        self.height = height
        body.append("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Self.fmt(width))\" height=\"\(Self.fmt(height))\" "
                    + "viewBox=\"0 0 \(Self.fmt(width)) \(Self.fmt(height))\" font-family=\"sans-serif\" font-size=\"12\">")
        body.append("  <title>\(Self.xml(title))</title>")
        rect(x: 0, y: 0, width: width, height: height, fill: "#ffffff")
    }

    /// Title and subtitle in the top left (the first 46 px).
    mutating func heading(_ title: String, _ subtitle: String?) {
        text(x: 10, y: 22, title, size: 15, bold: true)
        if let subtitle { text(x: 10, y: 40, subtitle, fill: Self.muted) }
    }

    mutating func text(x: Double, y: Double, _ s: String, anchor: Anchor = .start, size: Double? = nil, bold: Bool = false,
                       fill: String? = nil, rotate: Double? = nil) {
        var attrs = "x=\"\(Self.fmt(x))\" y=\"\(Self.fmt(y))\""
        if anchor != .start { attrs += " text-anchor=\"\(anchor.rawValue)\"" }
        if let size { attrs += " font-size=\"\(Self.fmt(size))\"" }
        if bold { attrs += " font-weight=\"bold\"" }
        if let fill { attrs += " fill=\"\(fill)\"" }
        if let rotate { attrs += " transform=\"rotate(\(Self.fmt(rotate)) \(Self.fmt(x)) \(Self.fmt(y)))\"" }
        body.append("  <text \(attrs)>\(Self.xml(s))</text>")
    }

    mutating func rect(x: Double, y: Double, width: Double, height: Double, fill: String) {
        body.append("  <rect x=\"\(Self.fmt(x))\" y=\"\(Self.fmt(y))\" width=\"\(Self.fmt(max(0, width)))\" "
                    + "height=\"\(Self.fmt(max(0, height)))\" fill=\"\(fill)\"/>")
    }

    mutating func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, stroke: String = Self.ink,
                       width: Double = 1, dash: String? = nil) {
        body.append("  <line x1=\"\(Self.fmt(x1))\" y1=\"\(Self.fmt(y1))\" x2=\"\(Self.fmt(x2))\" y2=\"\(Self.fmt(y2))\" "
                    + "stroke=\"\(stroke)\"" + (width != 1 ? " stroke-width=\"\(Self.fmt(width))\"" : "")
                    + (dash.map { " stroke-dasharray=\"\($0)\"" } ?? "") + "/>")
    }

    mutating func polyline(_ points: [(Double, Double)], stroke: String, width: Double = 2) {
        guard !points.isEmpty else { return }
        let list = points.map { "\(Self.fmt($0.0)),\(Self.fmt($0.1))" }.joined(separator: " ")
        body.append("  <polyline points=\"\(list)\" fill=\"none\" stroke=\"\(stroke)\" stroke-width=\"\(Self.fmt(width))\" "
                    + "stroke-linejoin=\"round\"/>")
    }

    mutating func circle(_ x: Double, _ y: Double, r: Double, fill: String) {
        body.append("  <circle cx=\"\(Self.fmt(x))\" cy=\"\(Self.fmt(y))\" r=\"\(Self.fmt(r))\" fill=\"\(fill)\"/>")
    }

    /// A horizontal interval from `low` to `high` at `y`, with end caps.
    mutating func errorBar(y: Double, low: Double, high: Double, cap: Double = 4) {
        line(low, y, high, y, stroke: Self.ink, width: 1.5)
        line(low, y - cap, low, y + cap, stroke: Self.ink, width: 1.5)
        line(high, y - cap, high, y + cap, stroke: Self.ink, width: 1.5)
    }

    /// Colour swatches with labels in a row from (x, y), wrapping before `maxX`; returns the height used.
    @discardableResult
    mutating func legend(x: Double, y: Double, maxX: Double, _ entries: [(label: String, colour: String)]) -> Double {
        var cx = x, cy = y
        for e in entries {
            let w = 18 + Double(e.label.count) * Self.charWidth + 16
            if cx > x, cx + w > maxX { cx = x; cy += 18 }
            rect(x: cx, y: cy - 10, width: 12, height: 12, fill: e.colour)
            text(x: cx + 17, y: cy, e.label)
            cx += w
        }
        return cy - y + 18
    }

    /// A horizontal value axis at `y` from the scale's range: grid lines up to `gridTop`, tick labels
    /// and the axis label (with its unit) centred below.
    mutating func valueAxis(_ scale: LinearScale, y: Double, gridTop: Double, label: String) {
        for t in scale.ticks() {
            let x = scale.position(t)
            line(x, gridTop, x, y, stroke: Self.grid)
            text(x: x, y: y + 16, scale.label(t), anchor: .middle, fill: Self.muted)
        }
        line(scale.range.0, y, scale.range.1, y)
        text(x: (scale.range.0 + scale.range.1) / 2, y: y + 34, label, anchor: .middle)
    }

    /// A vertical value axis at `x` from the scale's range (bottom to top): grid lines to `gridRight`,
    /// tick labels and the axis label turned upright.
    mutating func verticalAxis(_ scale: LinearScale, x: Double, gridRight: Double, label: String) {
        for t in scale.ticks() {
            let y = scale.position(t)
            line(x, y, gridRight, y, stroke: Self.grid)
            text(x: x - 6, y: y + 4, scale.label(t), anchor: .end, fill: Self.muted)
        }
        line(x, scale.range.0, x, scale.range.1)
        text(x: 16, y: (scale.range.0 + scale.range.1) / 2, label, anchor: .middle, rotate: -90)
    }

    func render() -> String { (body + ["</svg>"]).joined(separator: "\n") + "\n" }

    static func fmt(_ x: Double) -> String {
        guard x.isFinite else { return "0" }
        let s = String(format: "%.1f", x)
        if s == "-0.0" { return "0" }
        return s.hasSuffix(".0") ? String(s.dropLast(2)) : s
    }

    static func xml(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    /// `s` cut to `n` characters with an ellipsis.
    static func fit(_ s: String, _ n: Int) -> String { s.count <= n ? s : String(s.prefix(max(1, n - 1))) + "…" }
}

/// Maps values in `domain` to pixels in `range`, with round tick values (1, 2 or 5 × 10^k apart).
struct LinearScale {
    var domain: (Double, Double)
    var range: (Double, Double)
    /// The distance between ticks.
    var step: Double

    /// A domain from `low` to `high` widened to round ticks (and to include 0 when `zero`).
    init(low: Double, high: Double, range: (Double, Double), zero: Bool = true) {
        var lo = zero ? min(0, low) : low, hi = zero ? max(0, high) : high
        if !(lo.isFinite && hi.isFinite) { lo = 0; hi = 1 }
        if hi - lo <= 0 { hi = lo + (lo == 0 ? 1 : abs(lo) * 0.1) }
        let step = LinearScale.step(hi - lo)
        self.step = step
        domain = ((lo / step).rounded(.down) * step, (hi / step).rounded(.up) * step)
        self.range = range
    }

    static func step(_ span: Double) -> Double {
        let raw = span / 5
        let base = pow(10, (log10(raw)).rounded(.down))
        let m = raw / base
        return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * base
    }

    func position(_ v: Double) -> Double {
        let (a, b) = domain
        return range.0 + (v - a) / (b - a) * (range.1 - range.0)
    }

    func ticks() -> [Double] {
        var out: [Double] = []
        var v = domain.0
        while v <= domain.1 + step * 1e-9, out.count < 50 {
            out.append(abs(v) < step * 1e-9 ? 0 : v)
            v += step
        }
        return out
    }

    /// As many decimals as the step needs (`0.5`, `20`, `1,000`).
    func label(_ v: Double) -> String {
        let decimals = max(0, -Int((log10(step)).rounded(.down)))
        if decimals == 0 { return NumberFormat.grouped(Int(v.rounded())) }
        return String(format: "%.\(decimals)f", v)
    }
}
