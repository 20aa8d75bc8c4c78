import ArgumentParser
import Foundation
import CloudbenchCore
import CloudbenchReport

/// `cloudbench report`: results → a publishable markdown report (and optionally CSV and SVG).
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Render result files as a GitHub-flavoured markdown report (tables, overlay penalties, price ranking).",
        discussion: """
            RESULTS are .jsonl files or folders of them; they are merged and duplicate records count once.
            The same input always gives the same bytes. See docs/report.md.
            """
    )

    @Argument(help: "Result files (*.jsonl) or folders holding them.")
    var results: [String]

    @Option(help: "An inventory: its name titles the report, its prices override the catalog's, its currency is the default.")
    var inventory: String?

    @Option(help: "Currency of the cross-provider ranking (one providers/fx.yaml knows; default: the inventory's, else USD).")
    var currency: String?

    @Option(help: "Throughput unit: MB/s (10^6 bytes/s) or Mbit/s.")
    var unit: ReportOptions.ThroughputUnit = .megabytes

    @Option(help: "Write the markdown here instead of standard output, with its charts beside it as NAME-KIND.svg.")
    var out: String?

    @Option(help: "Also write a bar chart of throughput per unit of price (SVG).")
    var svg: String?

    @Option(help: "Also write the report's rows as CSV (and, with groups, their steps as NAME-groups.csv beside it).")
    var csv: String?

    @Flag(help: "Write the report as one JSON document (docs/json.md) instead of markdown: on standard output, or to --out.")
    var json = false

    @OptionGroup var catalog: CatalogOptions

    func validate() throws {
        if results.isEmpty { throw ValidationError("give at least one results file or folder") }
    }

    func run() throws {
        try ErrorDoor.run {
            var options = ReportOptions(currency: currency ?? "USD", unit: unit)
            // Burst timelines go beside a report written to a file; on standard output there is no "beside".
            options.linksBurstTimelines = out != nil
            let output = try ReportService.build(ReportRequest(
                resultPaths: results, providersDirectory: catalog.path, options: options,
                inventoryPath: inventory, currencyFromInventory: currency == nil))
            for w in output.warnings { printError("warning: \(w)") }
            if json {
                let document = try JSONOutput.encode(ReportDocument(output.model))
                if let out { try OutputFile.write(document, to: out) } else { print(document, terminator: "") }
            } else if let out {
                try ReportFiles.write(output.model, markdownPath: out) { try OutputFile.write($0, to: $1) }
            } else {
                print(MarkdownRenderer.render(output.model), terminator: "")
            }
            if let svg { try OutputFile.write(SVGRenderer.render(output.model), to: svg) }
            if let csv {
                try OutputFile.write(CSVRenderer.render(output.model), to: csv)
                // The groups' steps have columns of their own: a file beside it.
                if let groups = CSVRenderer.groups(output.model) { try OutputFile.write(groups, to: CSVRenderer.groupsPath(besides: csv)) }
            }
        }
    }
}
