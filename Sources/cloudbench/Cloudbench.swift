import ArgumentParser

/// The `cloudbench` command: thin subcommands over the library modules.
@main
struct Cloudbench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cloudbench",
        abstract: "Measure network throughput and latency of cloud instance pairs and overlays, per unit of price.",
        version: CloudbenchVersion.string,
        subcommands: [PricesCommand.self]
    )
}

enum CloudbenchVersion {
    static let string = "0.1.0"
}
