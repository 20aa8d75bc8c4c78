import Foundation

/// A report written to files: the markdown at its path, each chart beside it as `NAME-KIND.svg`
/// and each burst timeline as `burst-RECORD.svg`, linked from the markdown by file name.
public enum ReportFiles {
    /// Renders `model` and hands every file to `write(text, path)`; returns the SVG paths written.
    @discardableResult
    public static func write(_ model: ReportModel, markdownPath: String,
                             write: (String, String) throws -> Void) rethrows -> [String] {
        let charts = ReportCharts.render(model)
        let links = charts.map { c in
            MarkdownRenderer.ChartLink(title: c.title,
                                       file: (ReportCharts.fileName(besideMarkdown: markdownPath, kind: c.kind) as NSString).lastPathComponent)
        }
        try write(MarkdownRenderer.render(model, charts: links), markdownPath)
        var paths: [String] = []
        for c in charts {
            let path = ReportCharts.fileName(besideMarkdown: markdownPath, kind: c.kind)
            try write(c.svg, path)
            paths.append(path)
        }
        paths += try BurstReport.writeTimelines(model.bursts, unit: model.options.unit, besideReport: markdownPath, write: write)
        return paths
    }
}
