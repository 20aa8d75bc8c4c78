import Foundation
import Yams

/// Every provider's instance types, from `providers/<provider>.yaml`, with prices refreshed by
/// `cloudbench prices refresh` (in `providers/prices/<provider>.yaml`) taking precedence.
public struct Catalog: Sendable {
    /// Provider name → display name, e.g. `aws` → `Amazon Web Services`.
    public var providerNames: [String: String]
    /// Provider → type name → facts.
    public var types: [String: [String: InstanceType]]
    public var exchangeRates: ExchangeRates

    public init(providerNames: [String: String], types: [String: [String: InstanceType]], exchangeRates: ExchangeRates) {
        self.providerNames = providerNames
        self.types = types
        self.exchangeRates = exchangeRates
    }

    public var providers: [String] { providerNames.keys.sorted() }

    public func type(_ provider: String, _ name: String) -> InstanceType? { types[provider]?[name] }

    /// The catalog's price of a type in `region` (its own region's, else an `any` one); nil when
    /// there is none — never another region's.
    public func price(_ provider: String, _ name: String, region: String?) -> HourlyPrice? {
        type(provider, name)?.price(in: region)
    }

    public func displayName(of provider: String) -> String { providerNames[provider] ?? provider }

    /// The folder holding the catalogs: `$CLOUDBENCH_PROVIDERS`, else `providers/` in the
    /// working directory, else the one installed beside the executable (`../share/cloudbench/providers`).
    public static func defaultDirectory(executable: String = CommandLine.arguments.first ?? "") -> String {
        if let env = ProcessInfo.processInfo.environment["CLOUDBENCH_PROVIDERS"], !env.isEmpty { return env }
        let fm = FileManager.default
        if fm.fileExists(atPath: "providers/fx.yaml") { return "providers" }
        var dir = URL(fileURLWithPath: executable).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<6 {
            let candidate = dir.appendingPathComponent("providers/fx.yaml").path
            if fm.fileExists(atPath: candidate) { return dir.appendingPathComponent("providers").path }
            let shared = dir.appendingPathComponent("share/cloudbench/providers/fx.yaml").path
            if fm.fileExists(atPath: shared) { return dir.appendingPathComponent("share/cloudbench/providers").path }
            dir.deleteLastPathComponent()
        }
        return "providers"
    }

    /// Loads every `*.yaml` catalog in `directory` (except `fx.yaml`), the generated prices under
    /// `directory/prices/`, and `fx.yaml`. Problems are reported all at once.
    public static func load(directory: String) throws -> Catalog {
        let fm = FileManager.default
        guard let names = try? fm.contentsOfDirectory(atPath: directory) else {
            throw FileError(directory, "no provider catalog folder here; run from the repository root or set CLOUDBENCH_PROVIDERS")
        }
        let fxPath = "\(directory)/fx.yaml"
        guard fm.fileExists(atPath: fxPath) else { throw FileError(fxPath, "no such file; the exchange rates are needed to convert prices") }
        let rates = try ExchangeRates.load(path: fxPath)
        var providerNames: [String: String] = [:]
        var types: [String: [String: InstanceType]] = [:]
        var problems: [Diagnostic] = []
        for name in names.sorted() where name.hasSuffix(".yaml") && name != "fx.yaml" {
            do {
                let (provider, display, list) = try CatalogFile.parse(path: "\(directory)/\(name)", currencies: rates.currencies)
                providerNames[provider] = display
                types[provider, default: [:]].merge(list.map { ($0.name, $0) }) { _, new in new }
            } catch let e as InputErrors {
                problems += e.diagnostics
            }
        }
        let pricesDir = "\(directory)/prices"
        for name in ((try? fm.contentsOfDirectory(atPath: pricesDir)) ?? []).sorted() where name.hasSuffix(".yaml") {
            do {
                let (provider, prices) = try GeneratedPrices.parse(path: "\(pricesDir)/\(name)")
                for (typeName, price) in prices where types[provider]?[typeName] != nil {
                    types[provider]![typeName]!.setPrice(price)
                }
            } catch let e as InputErrors {
                problems += e.diagnostics
            }
        }
        if !problems.isEmpty { throw InputErrors(problems) }
        return Catalog(providerNames: providerNames, types: types, exchangeRates: rates)
    }
}

/// One hand-written catalog file: `provider`, `name`, and `types:` keyed by type name.
enum CatalogFile {
    static func parse(path: String, currencies: Set<String>) throws -> (String, String, [InstanceType]) {
        let doc = try YAMLDocument.load(path: path)
        let sink = DiagnosticSink()
        var provider = "", display = ""
        var list: [InstanceType] = []
        if let root = doc.root, let top = MappingReader(root, in: doc, context: "a provider catalog", sink: sink) {
            provider = top.string("provider", required: true)?.0 ?? ""
            display = top.string("name")?.0 ?? provider
            if let typesNode = top.value("types"), let mapping = typesNode.mapping {
                for (k, v) in mapping {
                    guard let typeName = k.string,
                          let r = MappingReader(v, in: doc, context: "instance type '\(k.string ?? "?")'", sink: sink) else { continue }
                    let vcpus = r.int("vcpus", range: 1...4096, required: true) ?? 0
                    var memory = Decimal(0)
                    if let (m, loc) = r.string("memory_gib", required: true) {
                        if let d = Money.decimal(m) { memory = d } else { sink.add(loc, "'memory_gib' must be a number") }
                    }
                    let network = r.string("network", required: true)?.0 ?? ""
                    let generation = r.string("generation")?.0
                    let note = r.string("note")?.0
                    let burstable = r.bool("burstable") ?? false
                    var prices: [HourlyPrice] = []
                    // `price:` one mapping, or a list of them for several regions.
                    if let p = r.value("price") {
                        for item in p.sequence ?? [p] {
                            guard let price = parsePrice(item, doc: doc, sink: sink, currencies: currencies) else { continue }
                            if prices.contains(where: { $0.region == price.region }) {
                                sink.add(doc.location(item), "'\(typeName)' has two prices for region '\(price.region ?? "")'; keep one")
                            } else {
                                prices.append(price)
                            }
                        }
                    }
                    r.finish()
                    var type = InstanceType(provider: provider, name: typeName, vcpus: vcpus, memoryGiB: memory,
                                             documentedNetwork: network, generation: generation,
                                             prices: prices.sorted { ($0.region ?? "") < ($1.region ?? "") }, note: note)
                    type.burstable = burstable
                    list.append(type)
                }
            } else {
                sink.add(top.keyLocation("types"), "a provider catalog needs 'types:' keyed by instance type name")
            }
            top.finish()
        }
        if !sink.isEmpty { throw InputErrors(sink.diagnostics) }
        return (provider, display, list)
    }

    static func parsePrice(_ node: Yams.Node, doc: YAMLDocument, sink: DiagnosticSink, currencies: Set<String>) -> HourlyPrice? {
        guard let r = MappingReader(node, in: doc, context: "a price", sink: sink) else { return nil }
        defer { r.finish() }
        guard let (amountText, amountLoc) = r.string("amount", required: true) else { return nil }
        guard let amount = Money.decimal(amountText), amount >= 0 else {
            sink.add(amountLoc, "'amount' must be a decimal number such as 0.0104, not '\(amountText)'")
            return nil
        }
        let (currency, curLoc) = r.string("currency", required: true) ?? ("USD", doc.location(node))
        if !currencies.contains(currency) {
            sink.add(curLoc, "unknown currency '\(currency)'" + Suggestion.hint(for: currency, in: currencies)
                + "; add its rate to providers/fx.yaml")
        }
        var status = HourlyPrice.Status.quoted
        if let (s, loc) = r.string("status") {
            if let st = HourlyPrice.Status(rawValue: s) { status = st } else {
                sink.add(loc, "'status' must be quoted or reconstructed, not '\(s)'")
            }
        }
        // A price is for one region (or `any`): without it a report could not tell whether it applies.
        let region = r.string("region", required: true)?.0 ?? ""
        return HourlyPrice(money: Money(amount, currency), region: region, status: status,
                           source: r.string("source", required: true)?.0 ?? "",
                           asOf: r.string("as_of", required: true)?.0 ?? "", note: r.string("note")?.0)
    }
}

/// Prices written by `cloudbench prices refresh`: `provider`, and `prices:` a list of
/// `{type, amount, currency, region, source, fetched_at}`, one per type and region.
///
/// A file of the earlier shape (one entry per type) reads the same way: each entry prices only
/// the region it was fetched for, never the type everywhere.
public enum GeneratedPrices {
    public static func parse(path: String) throws -> (String, [(type: String, price: HourlyPrice)]) {
        let doc = try YAMLDocument.load(path: path)
        let sink = DiagnosticSink()
        var provider = ""
        var prices: [(type: String, price: HourlyPrice)] = []
        var seen: Set<String> = []
        if let root = doc.root, let top = MappingReader(root, in: doc, context: "a generated prices file", sink: sink) {
            provider = top.string("provider", required: true)?.0 ?? ""
            _ = top.value("generated_by")
            _ = top.value("fetched_at")
            _ = top.value("source")
            for item in top.value("prices")?.sequence ?? [] {
                guard let r = MappingReader(item, in: doc, context: "a price", sink: sink) else { continue }
                let type = r.string("type", required: true)?.0 ?? ""
                let amountText = r.string("amount", required: true)?.0 ?? ""
                let currency = r.string("currency", required: true)?.0 ?? "USD"
                let region = r.string("region", required: true)?.0 ?? ""
                let source = r.string("source", required: true)?.0 ?? ""
                let fetched = r.string("fetched_at", required: true)?.0 ?? ""
                r.finish()
                guard let amount = Money.decimal(amountText) else {
                    sink.add(doc.location(item), "price of '\(type)' is not a decimal number")
                    continue
                }
                guard seen.insert("\(type)\u{1F}\(region)").inserted else {
                    sink.add(doc.location(item), "'\(type)' is priced twice for region '\(region)'; re-run `cloudbench prices refresh`")
                    continue
                }
                prices.append((type, HourlyPrice(money: Money(amount, currency), region: region, status: .fetched,
                                                 source: source, asOf: fetched)))
            }
            top.finish()
        }
        if !sink.isEmpty { throw InputErrors(sink.diagnostics) }
        return (provider, prices)
    }
}
