import CloudbenchCore

/// The report's charts, each a plain SVG drawn with `SVGCanvas`, written beside the markdown as
/// `NAME-KIND.svg` and linked from it. A chart is made only when there is data for it.
public enum ReportCharts {
    public enum Kind: String, CaseIterable, Sendable {
        case ranking, throughput, penalty, latency, timeline, groups
    }

    public struct Chart: Sendable {
        public var kind: Kind
        /// What the chart shows, for the link's text.
        public var title: String
        public var svg: String
    }

    /// At most this many rows in a bar chart (the tables have them all); the chart says how many it left out.
    static let rowLimit = 40
    /// At most this many lines in a timeline.
    static let lineLimit = 6
    static let width = 800.0

    public static func render(_ m: ReportModel) -> [Chart] {
        var out: [Chart] = []
        if !m.ranking.isEmpty {
            out.append(Chart(kind: .ranking, title: "Throughput per price", svg: ranking(m)))
        }
        if let c = throughput(m) { out.append(c) }
        if let c = penalty(m) { out.append(c) }
        if let c = latency(m) { out.append(c) }
        if let c = timeline(m) { out.append(c) }
        if let c = groups(m) { out.append(c) }
        return out
    }

    /// `reports/study.md` → `reports/study-ranking.svg`.
    public static func fileName(besideMarkdown path: String, kind: Kind) -> String {
        let base = path.hasSuffix(".md") ? String(path.dropLast(3)) : path
        return "\(base)-\(kind.rawValue).svg"
    }

    // MARK: The five charts

    static func ranking(_ m: ReportModel) -> String {
        let rows = m.ranking.filter { $0.throughputPerPrice != nil }
        let unit = m.options.unit.rawValue, cur = NumberFormat.perHour(m.options.currency)
        let unranked = m.ranking.filter { $0.throughputPerPrice == nil }.map { "\($0.providerName) \($0.label)" }
        let items = rows.map { (provider: $0.providerName, cell: $0.key.cell) }
        let names = labels(items, path: false)
        return BarChart(title: m.title, caption: "\(m.title): \(unit) per \(cur)",
                        subtitle: "Throughput per price: \(unit) per \(cur) (host network; longer is better)" + common(items),
                        axis: "throughput per price (\(unit) per \(cur))",
                        rows: rows.enumerated().map { BarChart.Row(label: names[$0.offset], values: [BarChart.Value(value: $0.element.throughputPerPrice!, interval: nil)]) },
                        series: [], empty: "n/a: no instance type has both a throughput and a price",
                        note: unranked.isEmpty ? nil : "Not shown (no price, exchange rate or throughput): " + unranked.joined(separator: ", "),
                        colourByGroup: rows.map(\.providerName)).render()
    }

    static func throughput(_ m: ReportModel) -> Chart? {
        guard let s = m.tests.first(where: { $0.test == "tcp_bw" }) else { return nil }
        let f = m.options.unit.factor, unit = m.options.unit.rawValue
        let rows = s.rows.filter { $0.cell.summary != nil }
        guard !rows.isEmpty else { return nil }
        // One bar per measured cell, host first within each instance type, coloured by path.
        let sorted = rows.sorted { a, b in
            let x = a.cell.key.on(path: ""), y = b.cell.key.on(path: "")
            if a.providerName != b.providerName { return a.providerName < b.providerName }
            if x != y { return x < y }
            let pa = a.cell.key.path, pb = b.cell.key.path
            return (pa == "host" ? 0 : 1, pa) < (pb == "host" ? 0 : 1, pb)
        }
        let items = sorted.map { (provider: $0.providerName, cell: $0.cell.key) }
        var names = labels(items, path: false)
        let paths = Set(sorted.map(\.cell.key.path)).count > 1
        if paths { for i in names.indices { names[i] += " · " + sorted[i].cell.key.path } }
        let chart = BarChart(
            title: "TCP throughput per instance type", caption: "TCP throughput per instance type and path (\(unit))",
            subtitle: "Mean over repetitions with its 95 % interval" + (paths ? "; coloured by path" : "") + common(items),
            axis: "throughput (\(unit))",
            rows: sorted.enumerated().map { i, r in
                let s = r.cell.summary!
                return BarChart.Row(label: names[i], values: [BarChart.Value(value: s.mean * f, interval: s.confidenceInterval?.scaled(by: f))])
            },
            series: [], empty: nil, note: nil, colourByGroup: sorted.map(\.cell.key.path))
        return Chart(kind: .throughput, title: "TCP throughput per instance type and path, with 95 % intervals", svg: chart.render())
    }

    static func penalty(_ m: ReportModel) -> Chart? {
        let rows = m.overlays.filter { $0.throughputVsHost != nil || $0.latencyVsHost != nil }
        guard !rows.isEmpty else { return nil }
        let items = rows.map { (provider: $0.providerName, cell: $0.key.cell) }
        var names = labels(items, path: false)
        for i in names.indices { names[i] += " · " + rows[i].path }
        let chart = BarChart(
            title: "Overlay penalty versus the host network", caption: "Change versus host, in %, per instance type and path",
            subtitle: "Change of the mean versus host on the same instances and knobs, with its 95 % interval" + common(items),
            axis: "change versus host (%): throughput below 0 is a loss, latency above 0 is a loss",
            rows: rows.enumerated().map { i, o in
                BarChart.Row(label: names[i],
                             values: [o.throughputVsHost.map { BarChart.Value(value: $0.percent, interval: $0.interval) },
                                      o.latencyVsHost.map { BarChart.Value(value: $0.percent, interval: $0.interval) }])
            },
            series: ["throughput", "latency"], empty: nil, note: nil, colourByGroup: nil, zeroLine: true)
        return Chart(kind: .penalty, title: "Overlay penalty per instance type and path, with 95 % intervals", svg: chart.render())
    }

    static func latency(_ m: ReportModel) -> Chart? {
        guard let s = m.tests.first(where: { $0.test == "tcp_lat" }),
              s.figures.contains(.rttP50) || s.figures.contains(.rttP99) else { return nil }
        let rows = s.rows.filter { $0.figures[.rttP50] != nil || $0.figures[.rttP99] != nil }
        let items = rows.map { (provider: $0.providerName, cell: $0.cell.key) }
        var names = labels(items, path: false)
        for i in names.indices { names[i] += " · " + rows[i].cell.key.path }
        let chart = BarChart(
            title: "Round-trip time per instance type and path", caption: "TCP round-trip time p50 and p99 (µs)",
            subtitle: "RTT percentiles of each repetition, averaged over repetitions, with 95 % intervals" + common(items),
            axis: "round-trip time (µs)",
            rows: rows.enumerated().map { i, r in
                BarChart.Row(label: names[i],
                             values: [r.figures[.rttP50].map { BarChart.Value(value: $0.mean, interval: $0.confidenceInterval) },
                                      r.figures[.rttP99].map { BarChart.Value(value: $0.mean, interval: $0.confidenceInterval) }])
            },
            series: ["RTT p50", "RTT p99"], empty: nil, note: nil, colourByGroup: nil)
        return Chart(kind: .latency, title: "Round-trip time p50 and p99 per instance type and path", svg: chart.render())
    }

    static func timeline(_ m: ReportModel) -> Chart? {
        guard !m.timelines.isEmpty else { return nil }
        let f = m.options.unit.factor, unit = m.options.unit.rawValue
        // The deepest falls first.
        let shown = m.timelines.sorted { ($0.timeline.lowestShare, $0.timeline.recordID) < ($1.timeline.lowestShare, $1.timeline.recordID) }
            .prefix(lineLimit)
        let items = shown.map { (provider: $0.providerName, cell: $0.timeline.cell) }
        let names = labels(items, path: true)
        let chart = LineChart(
            title: "Per-second throughput: drops and stalls", caption: "Throughput per interval (\(unit)) of tcp_bw repetitions that dropped or stalled",
            subtitle: "The repetition with the deepest fall in each cell, one line each" + common(items),
            xAxis: "time since the end of the warm-up (s)", yAxis: "throughput (\(unit))",
            series: shown.enumerated().map { i, t in
                LineChart.Series(label: "\(names[i]) · pair \(t.timeline.pair), repetition \(t.timeline.repetition): \(t.timeline.event.rawValue)",
                                 points: zip(t.timeline.starts, t.timeline.rates).map { ($0, $1 * f) })
            },
            note: m.timelines.count > shown.count ? "\(m.timelines.count - shown.count) more cells with a drop or a stall are listed in the report." : nil)
        return Chart(kind: .timeline, title: "Per-second throughput of repetitions that dropped or stalled", svg: chart.render())
    }

    /// Each group's aggregate against its step (`GroupReport`), one line per group with two steps or more.
    static func groups(_ m: ReportModel) -> Chart? {
        let shown = m.groups.filter { $0.steps.compactMap(\.aggregate).count >= 2 }.prefix(lineLimit)
        guard !shown.isEmpty else { return nil }
        let f = m.options.unit.factor, unit = m.options.unit.rawValue
        let chart = LineChart(
            title: "Groups: aggregate throughput per step", caption: "Aggregate throughput (\(unit)) of each group per step",
            subtitle: "Every flow of a step at once; the line flattens where a shared link caps the group",
            xAxis: "clients, servers or backends at once", yAxis: "aggregate throughput (\(unit))",
            series: shown.map { g in
                LineChart.Series(label: "\(g.name) (\(g.shape.replacingOccurrences(of: "_", with: "-")))"
                                     + (g.ceiling.map { ": capped at " + NumberFormat.sig3($0.value * f) + " \(unit) from \($0.fromStep) on" } ?? ""),
                                 points: g.steps.compactMap { s in s.aggregate.map { (Double(s.step), $0.mean * f) } })
            },
            note: m.groups.count > shown.count ? "Groups with one step, or past \(lineLimit), are in the report's tables only." : nil)
        return Chart(kind: .groups, title: "Aggregate throughput of each group per step", svg: chart.render())
    }

    /// Row labels naming only what sets rows apart: the provider when there are several, the
    /// type, then region, placement, knobs and path when they differ between rows.
    static func labels(_ items: [(provider: String, cell: CellIdentity)], path: Bool) -> [String] {
        let providers = Set(items.map(\.provider)).count > 1
        // A region is named only when some provider has rows in more than one.
        let regions = Dictionary(grouping: items, by: \.provider).values.contains { Set($0.map(\.cell.region)).count > 1 }
        let placements = Set(items.map(\.cell.placement)).count > 1
        // Only the knobs that differ between rows.
        let setups = items.map(\.cell.setup)
        func varies<T: Hashable>(_ k: KeyPath<TestSetup, T>) -> Bool { Set(setups.map { $0[keyPath: k] }).count > 1 }
        let direction = varies(\.direction), streams = varies(\.streams), size = varies(\.messageSize)
        let rate = varies(\.udpRate), http = varies(\.httpSize)
        func differing(_ s: TestSetup) -> TestSetup {
            TestSetup(direction: direction ? s.direction : nil, streams: streams ? s.streams : nil,
                      messageSize: size ? s.messageSize : nil, udpRate: rate ? s.udpRate : nil, httpSize: http ? s.httpSize : nil)
        }
        let paths = path && Set(items.map(\.cell.path)).count > 1
        return items.map { p, c in
            var parts: [String] = []
            if regions { parts.append(c.region ?? "no region") }
            if placements, let pl = c.placement { parts.append(pl) }
            let knobs = differing(c.setup)
            if !knobs.isEmpty { parts.append(SetupText.text(knobs, test: c.test)) }
            if paths { parts.append(c.path) }
            return (providers ? "\(p) " : "") + c.type + (parts.isEmpty ? "" : " · " + parts.joined(separator: " · "))
        }
    }

    /// What every row shares (provider, region, placement), said once in the subtitle.
    static func common(_ items: [(provider: String, cell: CellIdentity)]) -> String {
        var parts: [String] = []
        if Set(items.map(\.provider)).count == 1, let p = items.first?.provider { parts.append(p) }
        if Set(items.map(\.cell.region)).count == 1, let r = items.first?.cell.region { parts.append(r) }
        if Set(items.map(\.cell.placement)).count == 1, let pl = items.first?.cell.placement { parts.append(pl) }
        return parts.isEmpty ? "" : " · all " + parts.joined(separator: ", ")
    }

    /// `host` first, then the rest by name.
    static func orderedPaths(_ paths: [String]) -> [String] {
        Set(paths).sorted { ($0 == "host" ? 0 : 1, $0) < ($1 == "host" ? 0 : 1, $1) }
    }
}

/// Horizontal bars, one group per row and one bar per series, each with an optional interval;
/// labels on the left, the value axis below. Used by every bar chart of the report.
struct BarChart {
    struct Value { var value: Double; var interval: Interval? }
    struct Row { var label: String; var values: [Value?] }

    var title: String
    /// The SVG's `<title>`.
    var caption: String
    var subtitle: String
    var axis: String
    var rows: [Row]
    /// Series names for the legend (one colour each); empty for a single unnamed series.
    var series: [String]
    /// Said instead of bars when there are no rows.
    var empty: String?
    var note: String?
    /// Colours by this group per row (e.g. the provider) instead of by series, with a legend of groups.
    var colourByGroup: [String]?
    var zeroLine = false

    func render() -> String {
        let limit = ReportCharts.rowLimit
        let shown = Array(rows.prefix(limit))
        let left = 10.0, width = ReportCharts.width
        let longest = shown.map(\.label.count).max() ?? 0
        let labelChars = min(50, max(12, longest))
        let labelWidth = Double(labelChars) * SVGCanvas.charWidth + 16
        let plotLeft = left + labelWidth, plotRight = width - 70
        let groups = colourByGroup.map { ReportCharts.orderedPaths($0) } ?? []
        let legendEntries: [(label: String, colour: String)] = colourByGroup != nil && groups.count > 1
            ? groups.enumerated().map { ($1, SVGCanvas.palette[$0 % SVGCanvas.palette.count]) }
            : series.count > 1 ? series.enumerated().map { ($1, SVGCanvas.palette[$0 % SVGCanvas.palette.count]) } : []
        let bars = max(1, series.count), barHeight = bars > 1 ? 12.0 : 16.0
        let rowHeight = Double(bars) * barHeight + 8
        // Legend height is estimated as the canvas lays it out.
        var probe = SVGCanvas(width: width, height: 10, title: "")
        let legendHeight = legendEntries.isEmpty ? 0 : probe.legend(x: left, y: 0, maxX: width - 10, legendEntries)
        let top = 56 + legendHeight
        let plotHeight = Double(max(shown.count, 1)) * rowHeight
        let extraNotes = (note == nil ? 0 : 1) + (rows.count > limit ? 1 : 0)
        let height = top + plotHeight + 48 + Double(extraNotes) * 18 + 8
        var c = SVGCanvas(width: width, height: height, title: caption)
        c.heading(title, subtitle)
        if !legendEntries.isEmpty { c.legend(x: left, y: 62, maxX: width - 10, legendEntries) }
        let values = shown.flatMap { $0.values.compactMap { $0 } }
        let low = values.map { min($0.value, $0.interval?.low ?? $0.value) }.min() ?? 0
        let high = values.map { max($0.value, $0.interval?.high ?? $0.value) }.max() ?? 1
        let scale = LinearScale(low: low, high: high, range: (plotLeft, plotRight))
        let axisY = top + plotHeight + 4
        if shown.isEmpty, let empty {
            c.text(x: left, y: top + 16, empty)
        }
        c.valueAxis(scale, y: axisY, gridTop: top - 4, label: axis)
        let zero = scale.position(0)
        for (i, r) in shown.enumerated() {
            let y0 = top + Double(i) * rowHeight
            c.text(x: plotLeft - 8, y: y0 + rowHeight / 2 + 4, SVGCanvas.fit(r.label, labelChars), anchor: .end)
            for (j, v) in r.values.enumerated() {
                let y = y0 + 4 + Double(j) * barHeight
                let colour: String
                if let g = colourByGroup?[i] {
                    colour = SVGCanvas.palette[(groups.firstIndex(of: g) ?? 0) % SVGCanvas.palette.count]
                } else {
                    colour = SVGCanvas.palette[j % SVGCanvas.palette.count]
                }
                guard let v else {
                    if series.count > 1 { c.text(x: zero + 4, y: y + barHeight - 2, "not measured", size: 10, fill: SVGCanvas.muted) }
                    continue
                }
                let x = scale.position(v.value)
                c.rect(x: min(x, zero), y: y + 1, width: max(1, abs(x - zero)), height: barHeight - 2, fill: colour)
                // The value right of everything drawn for it (bar, interval, the zero line): a negative
                // bar's value sits right of zero, where its own row is empty, never over the labels.
                var end = max(x, zero)
                if let ci = v.interval {
                    c.errorBar(y: y + barHeight / 2, low: scale.position(ci.low), high: scale.position(ci.high), cap: barHeight / 2 - 2)
                    end = max(end, scale.position(ci.high))
                }
                c.text(x: end + 4, y: y + barHeight - 3, v.value == 0 ? "0" : NumberFormat.sig3(v.value), size: 10, fill: SVGCanvas.ink)
            }
        }
        if zeroLine || low < 0 { c.line(zero, top - 4, zero, axisY, stroke: SVGCanvas.ink) }
        var y = axisY + 56
        if rows.count > limit {
            c.text(x: left, y: y, "\(rows.count - limit) more rows are in the report's tables.", fill: SVGCanvas.muted)
            y += 18
        }
        if let note { c.text(x: left, y: y, SVGCanvas.fit(note, 118), fill: SVGCanvas.muted) }
        return c.render()
    }
}

/// Lines over a shared x axis, one colour each, with a legend: the timeline charts.
struct LineChart {
    struct Series { var label: String; var points: [(Double, Double)] }
    /// A dashed horizontal level or a vertical marker, labelled.
    struct Mark { var label: String; var x: Double?; var y: Double? }

    var title: String
    var caption: String
    var subtitle: String
    var xAxis: String
    var yAxis: String
    var series: [Series]
    var marks: [Mark] = []
    var note: String?

    init(title: String, caption: String, subtitle: String, xAxis: String, yAxis: String, series: [Series],
         marks: [Mark] = [], note: String?) {
        self.title = title; self.caption = caption; self.subtitle = subtitle; self.xAxis = xAxis; self.yAxis = yAxis
        self.series = series; self.marks = marks; self.note = note
    }

    func render() -> String {
        let width = ReportCharts.width, left = 10.0
        let entries = series.enumerated().map { (label: SVGCanvas.fit($1.label, 100), colour: SVGCanvas.palette[$0 % SVGCanvas.palette.count]) }
        var probe = SVGCanvas(width: width, height: 10, title: "")
        let legendHeight = entries.count > 1 ? probe.legend(x: left, y: 0, maxX: width - 10, entries) : 0
        let top = 60 + legendHeight, plotHeight = 300.0
        let plotLeft = 74.0, plotRight = width - 20
        let height = top + plotHeight + 56 + (note == nil ? 0 : 18)
        var c = SVGCanvas(width: width, height: height, title: caption)
        c.heading(title, subtitle)
        if entries.count > 1 { c.legend(x: left, y: 62, maxX: width - 10, entries) }
        else if let e = entries.first { c.text(x: left, y: 58, e.label, fill: e.colour) }
        let xs = series.flatMap { $0.points.map(\.0) } + marks.compactMap(\.x)
        let ys = series.flatMap { $0.points.map(\.1) } + marks.compactMap(\.y)
        let xScale = LinearScale(low: xs.min() ?? 0, high: (xs.max() ?? 1) + 1, range: (plotLeft, plotRight))
        let yScale = LinearScale(low: 0, high: (ys.max() ?? 1) * 1.05, range: (top + plotHeight, top))
        c.verticalAxis(yScale, x: plotLeft, gridRight: plotRight, label: yAxis)
        c.valueAxis(xScale, y: top + plotHeight, gridTop: top, label: xAxis)
        for mark in marks {
            if let y = mark.y {
                c.line(plotLeft, yScale.position(y), plotRight, yScale.position(y), stroke: SVGCanvas.muted, dash: "4 3")
                c.text(x: plotRight - 4, y: yScale.position(y) - 4, mark.label, anchor: .end, size: 10, fill: SVGCanvas.muted)
            }
            if let x = mark.x {
                c.line(xScale.position(x), top, xScale.position(x), top + plotHeight, stroke: "#d55e00", dash: "4 3")
                c.text(x: xScale.position(x) + 4, y: top + 12, mark.label, size: 10, fill: "#d55e00")
            }
        }
        for (i, s) in series.enumerated() {
            let colour = SVGCanvas.palette[i % SVGCanvas.palette.count]
            // Each rate holds for its interval: a step line from the interval's start to the next one's.
            var pts: [(Double, Double)] = []
            for (j, p) in s.points.enumerated() {
                let next = j + 1 < s.points.count ? s.points[j + 1].0 : p.0 + 1
                pts.append((xScale.position(p.0), yScale.position(p.1)))
                pts.append((xScale.position(next), yScale.position(p.1)))
            }
            c.polyline(pts, stroke: colour)
        }
        if let note { c.text(x: left, y: height - 10, note, fill: SVGCanvas.muted) }
        return c.render()
    }
}
