import ArgumentParser
import CloudbenchCore
import CloudbenchPricing
import Foundation

/// `cloudbench prices refresh|show`: keep the catalogs' prices current and say how old they are.
struct PricesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prices",
        abstract: "Refresh instance prices from the providers' pricing APIs, or show what is known and how old it is.",
        subcommands: [Refresh.self, Show.self]
    )

    /// Fetches prices and writes `<catalog>/prices/<provider>.yaml`.
    struct Refresh: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Fetch current Linux on-demand prices and write them to <catalog>/prices/<provider>.yaml.",
            discussion: """
            Azure needs no credentials. AWS uses the Price List Query API when AWS_ACCESS_KEY_ID and \
            AWS_SECRET_ACCESS_KEY are set, else the public offer file of the region. DigitalOcean needs \
            DIGITALOCEAN_TOKEN. CLOUDBENCH_AZURE_PRICES_URL, CLOUDBENCH_AWS_PRICES_URL and \
            CLOUDBENCH_DIGITALOCEAN_API_URL point an API at a mirror (see docs/prices.md).
            """
        )

        @Option(help: "Only this provider (default: all three).", transform: { try PricedProvider(parsing: $0) })
        var provider: PricedProvider?

        @Option(help: "Region to price (default: eastus for azure, us-east-1 for aws, any for digitalocean, unless --inventory names regions).")
        var region: String?

        @Option(help: "Inventory whose pairs' providers, types and regions to price (each region it names is fetched).")
        var inventory: String?

        @Option(name: .customLong("type"), parsing: .upToNextOption, help: "Instance types to refresh (default: every type in the catalog).")
        var types: [String] = []

        @Option(help: "Currency to ask for (Azure offers several; AWS and DigitalOcean price in USD).")
        var currency: String = "USD"

        @OptionGroup var catalog: CatalogOptions

        func run() throws {
            try ErrorDoor.run {
                let endpoints = try PriceEndpoints.fromEnvironment()
                var config = HTTPClient.Configuration(
                    userAgent: "cloudbench/\(CloudbenchVersion.string) (+prices refresh) libcurl/\(HTTPClient.curlVersion)")
                config.retry = RetryPolicy()
                config.plainHTTPToLoopback = endpoints.plainHTTPToLoopback
                let client = try HTTPClient(configuration: config)
                client.onRetry = { url, status, wait in
                    let why = status == 0 ? "connection failed" : "HTTP \(status)"
                    FileHandle.standardError.write(Data("  \(why) from \(url); retrying in \(String(format: "%.1f", wait)) s\n".utf8))
                }
                let scope = try inventory.map { path in
                    var loader = InventoryLoader(catalog: try catalog.load())
                    loader.checkFiles = false
                    return PriceRefresh.InventoryScope(try loader.load(path: path))
                }
                let options = PriceRefresh.Options(provider: provider?.rawValue, region: region, types: types, currency: currency,
                                                   catalogDirectory: catalog.path, inventory: scope)
                let outcomes = try PriceRefresh(options: options, endpoints: endpoints, client: client,
                                                generatedBy: "cloudbench \(CloudbenchVersion.string)").run()
                let summary = RefreshSummary(outcomes)
                summary.lines.forEach { print($0) }
                summary.problems.forEach { printError("error: \($0)") }
                if summary.exitStatus != .ok { throw ExitCode(summary.exitStatus) }
            }
        }
    }

    /// Lists every catalog price with its status, date, age and source.
    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List every known price with its status, date, age in days and source; flags prices older than 90 days.")

        @Option(help: "Only this provider (any the catalog has).")
        var provider: String?

        @OptionGroup var catalog: CatalogOptions

        @Flag(help: "Print one JSON document (docs/json.md) instead of the table.")
        var json = false

        func run() throws {
            try ErrorDoor.run {
                let loaded = try catalog.load()
                if let p = provider, loaded.types[p] == nil {
                    throw PricingError("unknown provider '\(p)'\(Suggestion.hint(for: p, in: loaded.providers)); the catalog has \(loaded.providers.joined(separator: ", "))", input: true)
                }
                let rows = PriceTable.rows(catalog: loaded, provider: provider)
                print(json ? try JSONOutput.encode(PriceDocument(rows)) : PriceTable.render(rows), terminator: "")
            }
        }
    }
}
