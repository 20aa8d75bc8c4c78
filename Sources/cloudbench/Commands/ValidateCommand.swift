import ArgumentParser
import CloudbenchCore

/// `cloudbench validate INVENTORY...`: every problem of every file, or silence and exit 0.
struct ValidateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check inventories without touching the network; list every problem as file:line:col.")

    @OptionGroup var catalogOptions: CatalogOptions

    @Argument(help: "Inventory files (YAML, schema 1).")
    var inventories: [String]

    @Flag(help: "Print one JSON document (docs/json.md) on standard output instead of the ok lines; problems still go to standard error.")
    var json = false

    func run() async throws {
        try await ErrorDoor.run {
            let catalog = try catalogOptions.load()
            let loader = InventoryLoader(catalog: catalog)
            var problems: [Diagnostic] = []
            var fileErrors: [FileError] = []
            var document = ValidationDocument()
            for path in inventories {
                do {
                    let inv = try loader.load(path: path)
                    inv.warningLines.forEach(printError)
                    document.add(path: path, inventory: inv)
                    if !json { print("\(path): ok (\(inv.pairs.count) pairs, " + (inv.groups.isEmpty ? "" : "\(inv.groups.count) groups, ") + "\(inv.hosts.count) hosts)") }
                    for w in SustainedRuns(inventory: inv, catalog: catalog, enabled: false).warnings(inv) {
                        printError("\(path): warning: \(w)")
                    }
                } catch let e as InputErrors {
                    problems += e.diagnostics
                    document.add(path: path, errors: e.diagnostics.map(DiagnosticJSON.init))
                } catch let e as FileError {
                    fileErrors.append(e)
                    document.add(path: path, errors: [DiagnosticJSON(e)])
                }
            }
            if json { print(try JSONOutput.encode(document), terminator: "") }
            for e in fileErrors { printError("error: \(e)") }
            if !problems.isEmpty { throw InputErrors(problems) }
            if !fileErrors.isEmpty { throw ExitCode(.badInput) }
        }
    }
}
