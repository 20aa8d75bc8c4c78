import ArgumentParser
import CloudbenchCore
import Foundation

/// `cloudbench fleet validate FLEET...`: fleets checked like inventories, without the network.
struct FleetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fleet",
        abstract: "Work with fleet files (fleets/*.yaml), what `provision` creates.",
        subcommands: [Validate.self])

    struct Validate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check fleet files without touching the network; list every problem as file:line:col.")

        @OptionGroup var catalogOptions: CatalogOptions

        @Argument(help: "Fleet files (YAML, schema 1).")
        var fleets: [String]

        func run() async throws {
            try await ErrorDoor.run {
                let loader = FleetLoader(catalog: try catalogOptions.load())
                var problems: [Diagnostic] = []
                var fileErrors: [FileError] = []
                for path in fleets {
                    do {
                        let f = try loader.load(path: path)
                        print("\(path): ok (\(f.provider), \(f.pairCount) pairs, \(f.pairCount * 2) instances)")
                    } catch let e as InputErrors {
                        problems += e.diagnostics
                    } catch let e as FileError {
                        fileErrors.append(e)
                    }
                }
                for e in fileErrors { printError("error: \(e)") }
                if !problems.isEmpty { throw InputErrors(problems) }
                if !fileErrors.isEmpty { throw ExitCode(.badInput) }
            }
        }
    }
}
