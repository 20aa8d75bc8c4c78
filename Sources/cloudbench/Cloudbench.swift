import ArgumentParser

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
}

enum CloudbenchVersion {
    static let string = "0.1.0"
}
