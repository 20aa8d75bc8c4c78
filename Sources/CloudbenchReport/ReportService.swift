import Foundation
import CloudbenchCore

/// What `cloudbench report` asks for: result files, the catalog folder and how to draw.
public struct ReportRequest: Sendable {
    public var resultPaths: [String]
    public var providersDirectory: String
    public var options: ReportOptions
    /// An inventory whose name titles the report and whose prices override the records' and the catalog's.
    public var inventoryPath: String?
    /// Rank in the inventory's currency instead of `options.currency` (no `--currency` given).
    public var currencyFromInventory: Bool

    public init(resultPaths: [String], providersDirectory: String, options: ReportOptions,
                inventoryPath: String? = nil, currencyFromInventory: Bool = false) {
        self.resultPaths = resultPaths
        self.providersDirectory = providersDirectory
        self.options = options
        self.inventoryPath = inventoryPath
        self.currencyFromInventory = currencyFromInventory
    }
}

/// Loads results and the catalog, checks the options, and builds the report model.
public enum ReportService {
    public struct Output: Sendable {
        public var model: ReportModel
        /// Lines skipped while loading, as `file:line: message`.
        public var warnings: [String]
    }

    public static func build(_ request: ReportRequest) throws -> Output {
        let catalog = try Catalog.load(directory: request.providersDirectory)
        var options = request.options
        if let path = request.inventoryPath {
            // Syntax and names only: a report needs no key files.
            var loader = InventoryLoader(catalog: catalog)
            loader.checkFiles = false
            let inventory = try loader.load(path: path)
            if options.title == nil { options.title = inventory.name }
            if request.currencyFromInventory { options.currency = inventory.currency }
            options.priceOverrides.merge(inventory.priceOverrides) { mine, _ in mine }
        }
        let currencies = catalog.exchangeRates.currencies
        guard currencies.contains(options.currency) else {
            let hint = Suggestion.closest(to: options.currency, in: currencies).map { " (did you mean '\($0)'?)" } ?? ""
            throw FileError("--currency", "unknown currency '\(options.currency)'\(hint); "
                + "providers/fx.yaml has rates for \(currencies.sorted().joined(separator: ", "))")
        }
        let loaded = try ResultStore.load(paths: request.resultPaths)
        guard !loaded.records.isEmpty else {
            throw FileError(request.resultPaths.joined(separator: " "),
                            "no result records found; run `cloudbench compare` or `cloudbench import` first")
        }
        return model(loaded, catalog: catalog, options: options)
    }

    /// The model of loaded records: statistics, the figures in `detail`, bursts. `bench-report`
    /// times this same step.
    public static func model(_ loaded: ResultStore.Loaded, catalog: Catalog, options: ReportOptions) -> Output {
        let warnings = loaded.warnings.map(\.description)
        // A group's step is several flows at once: never a row beside a pair's cells.
        let grouped = loaded.records.contains(where: GroupReport.isGroupRecord)
        let records = grouped ? loaded.records.filter { !GroupReport.isGroupRecord($0) } : loaded.records
        var model = ReportBuilder.build(records: records, catalog: catalog, options: options,
                                        inputWarnings: warnings, duplicates: loaded.duplicates)
        model.bursts = BurstReport.cells(records: records, catalog: catalog)
        model.datapaths = DatapathReport.rows(records: records, catalog: catalog)
        model.tunnelDrops = TunnelDropReport.rows(records: records)
        model.nicLimits = NICLimit.find(records: records, catalog: catalog)
        if grouped {
            let groupRecords = loaded.records.filter(GroupReport.isGroupRecord)
            model.groups = GroupReport.sections(records: groupRecords)
            // The sources count them too: the pairs' runs keep their labels, a run of groups only comes last.
            model.footer.records += groupRecords.count
            let (groupRuns, failed) = ReportBuilder.runLines(groupRecords)
            model.footer.failed += failed
            for run in groupRuns {
                if let i = model.footer.runs.firstIndex(where: { $0.runID == run.runID }) {
                    model.footer.runs[i].records += run.records
                    model.footer.runs[i].failed += run.failed
                    model.footer.runs[i].firstTime = min(model.footer.runs[i].firstTime, run.firstTime)
                    model.footer.runs[i].lastTime = max(model.footer.runs[i].lastTime, run.lastTime)
                } else {
                    var line = run
                    line.label = "r\(model.footer.runs.count + 1)"
                    model.footer.runs.append(line)
                }
            }
            if let newest = groupRuns.map(\.lastTime).max(), newest > (model.footer.newestRecordTime ?? "") {
                model.footer.newestRecordTime = newest
            }
        }
        return Output(model: model, warnings: warnings)
    }
}
