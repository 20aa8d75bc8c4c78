import CloudbenchCore

/// The ranking chart alone (`cloudbench report --svg`): throughput per unit of price as
/// horizontal bars, drawn like every other chart (`ReportCharts`).
public enum SVGRenderer {
    public static func render(_ m: ReportModel) -> String { ReportCharts.ranking(m) }
}
