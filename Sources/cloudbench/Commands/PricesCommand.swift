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

        @Option(help: "azure, aws or digitalocean (default: all three).")
        var provider: String?

        @Option(help: "Region to price (default: eastus for azure, us-east-1 for aws, any for digitalocean, unless --inventory names regions).")
        var region: String?

        @Option(help: "Inventory whose pairs' providers, types and regions to price (each region it names is fetched).")
        var inventory: String?

        @Option(name: .customLong("type"), parsing: .upToNextOption, help: "Instance types to refresh (default: every type in the catalog).")
        var types: [String] = []

        @Option(help: "Currency to ask for (Azure offers several; AWS and DigitalOcean price in USD).")
        var currency: String = "USD"

        @Option(help: "Catalog folder (default: providers/ or $CLOUDBENCH_PROVIDERS).")
        var catalog: String?

        func run() throws {
            do {
                let endpoints = try PriceEndpoints.fromEnvironment()
                var config = HTTPClient.Configuration(
                    userAgent: "cloudbench/\(CloudbenchVersion.string) (+prices refresh) libcurl/\(HTTPClient.curlVersion)")
                config.retry = RetryPolicy()
                let client = try HTTPClient(configuration: config)
                client.onRetry = { url, status, wait in
                    let why = status == 0 ? "connection failed" : "HTTP \(status)"
                    FileHandle.standardError.write(Data("  \(why) from \(url); retrying in \(String(format: "%.1f", wait)) s\n".utf8))
                }
                let directory = catalog ?? Catalog.defaultDirectory()
                let scope = try inventory.map { path in
                    try InputFailure.run {
                        var loader = InventoryLoader(catalog: try Catalog.load(directory: directory))
                        loader.checkFiles = false
                        return PriceRefresh.InventoryScope(try loader.load(path: path))
                    }
                }
                let options = PriceRefresh.Options(provider: provider, region: region, types: types, currency: currency,
                                                   catalogDirectory: directory, inventory: scope)
                let outcomes = try PriceRefresh(options: options, endpoints: endpoints, client: client,
                                                generatedBy: "cloudbench \(CloudbenchVersion.string)").run()
                var failed = false, inputError = false
                for o in outcomes {
                    if let why = o.skipped {
                        print("\(o.provider): skipped, \(why); the catalog's prices stay")
                        continue
                    }
                    if let e = o.error {
                        failed = true
                        inputError = inputError || e.isInputError
                        FileHandle.standardError.write(Data("error: \(o.provider): \(e.message)\n".utf8))
                        continue
                    }
                    print("\(o.provider) (\(o.region)): \(o.prices.count) price\(o.prices.count == 1 ? "" : "s") written to \(o.path ?? "?")")
                    for p in o.prices.sorted(by: { ($0.type, $0.region) < ($1.type, $1.region) }) {
                        let was = o.previous[p.type].map { " (was \($0.money) \($0.status.rawValue) \($0.asOf.prefix(10)))" } ?? ""
                        print("  \(p.type): \(Money.plain(p.amount)) \(p.currency)/h\(was)")
                    }
                    for m in o.missing {
                        print("  \(m.type): not refreshed, \(m.reason); the catalog's price stays")
                    }
                }
                if failed { throw ExitCode(inputError ? 2 : 1) }
            } catch let e as PricingError {
                FileHandle.standardError.write(Data("error: \(e.message)\n".utf8))
                throw ExitCode(e.isInputError ? 2 : 1)
            }
        }
    }

    /// Lists every catalog price with its status, date, age and source.
    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List every known price with its status, date, age in days and source; flags prices older than 90 days.")

        @Option(help: "Only this provider.")
        var provider: String?

        @Option(help: "Catalog folder (default: providers/ or $CLOUDBENCH_PROVIDERS).")
        var catalog: String?

        @Flag(help: "Print one JSON document (docs/json.md) instead of the table.")
        var json = false

        func run() throws {
            let dir = catalog ?? Catalog.defaultDirectory()
            let loaded: Catalog
            do {
                loaded = try Catalog.load(directory: dir)
            } catch {
                FileHandle.standardError.write(Data("error: \(error)\n".utf8))
                throw ExitCode(2)
            }
            if let p = provider, loaded.types[p] == nil {
                FileHandle.standardError.write(Data("error: unknown provider '\(p)'\(Suggestion.hint(for: p, in: loaded.providers)); the catalog has \(loaded.providers.joined(separator: ", "))\n".utf8))
                throw ExitCode(2)
            }
            let rows = PriceTable.rows(catalog: loaded, provider: provider)
            print(json ? try JSONOutput.encode(PriceDocument(rows)) : PriceTable.render(rows), terminator: "")
        }
    }
}
