import CloudbenchCore
import CloudbenchReport
import Foundation

/// The report `compare` writes at the end: this run's records (and any merged ones) as markdown,
/// with the SVG chart beside it.
enum CompareReport {
    static func write(resultsPath: String, merge: [String], inventory: Inventory, providersDirectory: String, to path: String) throws {
        var options = ReportOptions()
        options.linksBurstTimelines = true
        let output = try ReportService.build(ReportRequest(
            resultPaths: [resultsPath] + merge, providersDirectory: providersDirectory, options: options,
            inventoryPath: inventory.file, currencyFromInventory: true))
        try ReportFiles.write(output.model, markdownPath: path) { try OutputFile.write($0, to: $1) }
        let svg = (path as NSString).deletingPathExtension + ".svg"
        try OutputFile.write(SVGRenderer.render(output.model), to: svg)
    }
}
