import ArgumentParser
import CloudbenchCore
import Foundation

/// The `cloudbench` command: thin subcommands over the library modules.
@main
struct Cloudbench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cloudbench",
        abstract: "Measure network throughput and latency of cloud instance pairs and overlays, per unit of price.",
        version: CloudbenchVersion.string,
        subcommands: [
            ValidateCommand.self,
            PlanCommand.self,
            PreflightCommand.self,
            CompareCommand.self,
            ReportCommand.self,
            ImportCommand.self,
            PricesCommand.self,
            LabCommand.self,
            BenchReportCommand.self,
            FleetCommand.self,
            ProvisionCommand.self,
            DestroyCommand.self,
            SweepCommand.self,
        ]
    )

    /// ArgumentParser's own door, with one change: a command line it cannot use (an unknown
    /// flag, a value out of its set, a failed `validate()`) is bad input, exit status 2, like
    /// every other bad input; its message and usage print as ArgumentParser writes them.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            if exitCode(for: error) == .validationFailure {
                printError(fullMessage(for: error))
                Foundation.exit(ExitStatus.badInput.rawValue)
            }
            exit(withError: error)
        }
    }
}

enum CloudbenchVersion {
    static let string = "0.1.0"
}
