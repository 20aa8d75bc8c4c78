import CloudbenchCore
import Foundation

/// `cloudbench prices refresh`: fetch each provider's prices and write its generated prices file.
public struct PriceRefresh {
    /// What the user asked for.
    public struct Options: Sendable {
        /// nil for every provider the refresh knows.
        public var provider: String?
        /// `--region`: priced for every chosen provider, beside the inventory's regions.
        public var region: String?
        public var types: [String]
        public var currency: String
        public var catalogDirectory: String
        /// `--inventory`: the providers, types and regions its pairs name.
        public var inventory: InventoryScope?

        public init(provider: String? = nil, region: String? = nil, types: [String] = [], currency: String = "USD",
                    catalogDirectory: String, inventory: InventoryScope? = nil) {
            self.provider = provider
            self.region = region
            self.types = types
            self.currency = currency
            self.catalogDirectory = catalogDirectory
            self.inventory = inventory
        }

        /// The regions to fetch for `provider`: `--region`, then the inventory's, in order, each
        /// once; the provider's default region when neither names one.
        public func regions(for provider: String) -> [String] {
            var out: [String] = []
            for r in [region].compactMap({ $0 }) + (inventory?.regions[provider] ?? []) where !out.contains(r) { out.append(r) }
            return out.isEmpty ? [PriceRefresh.defaultRegions[provider] ?? InstanceType.anyRegion] : out
        }
    }

    /// What an inventory asks to be priced: per provider, the types and the regions its pairs name.
    public struct InventoryScope: Sendable, Equatable {
        public var types: [String: [String]]
        public var regions: [String: [String]]

        public init(types: [String: [String]], regions: [String: [String]]) {
            self.types = types
            self.regions = regions
        }

        /// A pair without a region names none.
        public init(_ inventory: Inventory) {
            var types: [String: [String]] = [:], regions: [String: [String]] = [:]
            for p in inventory.pairs {
                if !(types[p.provider]?.contains(p.type) ?? false) { types[p.provider, default: []].append(p.type) }
                if !p.region.isEmpty, !(regions[p.provider]?.contains(p.region) ?? false) { regions[p.provider, default: []].append(p.region) }
            }
            self.init(types: types, regions: regions)
        }
    }

    /// What happened to one provider in one region.
    public struct Outcome: Sendable {
        public var provider: String
        public var region: String
        /// The file written; nil when nothing was written.
        public var path: String?
        public var prices: [FetchedPrice]
        /// The price each type had before in this region (from the catalog as loaded).
        public var previous: [String: HourlyPrice]
        public var missing: [(type: String, reason: String)]
        public var error: PricingError?
        /// Why the provider was left out of an all-providers refresh (e.g. no DigitalOcean token).
        public var skipped: String?
    }

    public static let providers = PricedProvider.allCases.map(\.rawValue)
    /// The region each provider's hand-written prices are for.
    public static let defaultRegions = ["azure": "eastus", "aws": "us-east-1", "digitalocean": "any"]

    public let options: Options
    public let endpoints: PriceEndpoints
    public let client: HTTPClient
    public let environment: [String: String]
    public let generatedBy: String
    public let now: Date

    public init(options: Options, endpoints: PriceEndpoints, client: HTTPClient, generatedBy: String,
                environment: [String: String] = ProcessInfo.processInfo.environment, now: Date = Date()) {
        self.options = options
        self.endpoints = endpoints
        self.client = client
        self.generatedBy = generatedBy
        self.environment = environment
        self.now = now
    }

    /// Checks the request against the catalog and returns provider → types to fetch.
    public func plan(_ catalog: Catalog) throws -> [(String, [String])] {
        if let p = options.provider { _ = try PricedProvider(parsing: p) }
        let currencies = catalog.exchangeRates.currencies.union(["USD"])
        guard currencies.contains(options.currency) else {
            throw PricingError("unknown currency '\(options.currency)'" + Suggestion.hint(for: options.currency, in: currencies)
                + "; add its rate to \(options.catalogDirectory)/fx.yaml first", input: true)
        }
        let chosen = options.provider.map { [$0] }
            ?? options.inventory.map { scope in Self.providers.filter { scope.types[$0] != nil } } ?? Self.providers
        var plan: [(String, [String])] = []
        var unknown = Set(options.types)
        for p in chosen {
            let known = Set((catalog.types[p] ?? [:]).keys)
            let wanted = options.types.isEmpty ? options.inventory?.types[p] : options.types
            let types = wanted.map { $0.filter { known.contains($0) } } ?? known.sorted()
            unknown.subtract(types)
            if !types.isEmpty { plan.append((p, types)) }
        }
        if let t = unknown.sorted().first {
            let pool = chosen.flatMap { (catalog.types[$0] ?? [:]).keys }
            throw PricingError("unknown instance type '\(t)' for \(options.provider ?? "any provider")" + Suggestion.hint(for: t, in: pool)
                + "; add it to the hand-written catalog first", input: true)
        }
        if plan.isEmpty {
            throw PricingError("the catalog in \(options.catalogDirectory) has no instance types to refresh", input: true)
        }
        return plan
    }

    /// Refreshes every planned provider; one provider's failure does not stop the others.
    public func run() throws -> [Outcome] {
        let catalog: Catalog
        do {
            catalog = try Catalog.load(directory: options.catalogDirectory)
        } catch {
            throw PricingError("\(error)", input: true)
        }
        let fetchedAt = Self.timestamp(now)
        var outcomes: [Outcome] = []
        // One outcome per provider and region: `--region` and the inventory's regions each priced.
        for (provider, types) in try plan(catalog) {
            for region in options.regions(for: provider) {
                var outcome = Outcome(provider: provider, region: region, path: nil, prices: [],
                                      previous: (catalog.types[provider] ?? [:]).compactMapValues { $0.price(in: region) },
                                      missing: [], error: nil)
                if options.provider == nil, provider == "digitalocean", (try? DigitalOceanSizes.token(from: environment)) == nil {
                    // Asked for everything: refresh what needs no credentials rather than fail on what does.
                    outcome.skipped = "DIGITALOCEAN_TOKEN is not set"
                    outcomes.append(outcome)
                    continue
                }
                do {
                    let request = FetchRequest(types: types, region: region, currency: options.currency, fetchedAt: fetchedAt)
                    let result = try fetch(provider, request)
                    outcome.prices = result.prices
                    outcome.missing = result.missing
                    if result.prices.isEmpty {
                        throw PricingError("no prices found for \(types.joined(separator: ", ")) in \(region); check the region name (--region); the catalog is unchanged")
                    }
                    outcome.path = try GeneratedPricesFile.write(catalogDirectory: options.catalogDirectory, provider: provider,
                                                                 generatedBy: generatedBy, fetchedAt: fetchedAt,
                                                                 source: result.source, fresh: result.prices)
                } catch let e as PricingError {
                    outcome.error = e
                } catch {
                    outcome.error = PricingError("\(error)")
                }
                outcomes.append(outcome)
            }
        }
        return outcomes
    }

    func fetch(_ provider: String, _ request: FetchRequest) throws -> FetchResult {
        switch provider {
        case "azure":
            return try AzureRetailPrices(client: client, base: endpoints.azure).fetch(request)
        case "aws":
            return try AWSPrices(client: client, offerBase: endpoints.aws, queryBase: endpoints.awsQuery,
                                 credentials: AWSCredentials.fromEnvironment(environment)).fetch(request)
        case "digitalocean":
            return try DigitalOceanSizes(client: client, base: endpoints.digitalOcean,
                                         token: DigitalOceanSizes.token(from: environment)).fetch(request)
        default:
            throw PricingError("unknown provider '\(provider)'", input: true)
        }
    }

    /// `2026-11-27T13:40:00Z`.
    public static func timestamp(_ date: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: date)
    }
}
