import Foundation
import Yams

/// Reads a fleet file and checks everything that can be checked without the network, collecting
/// every problem as `file:line:col` like `InventoryLoader` (whose `run:` reader it shares).
public struct FleetLoader {
    public let catalog: Catalog

    public init(catalog: Catalog) { self.catalog = catalog }

    public func load(path: String) throws -> Fleet {
        try parse(YAMLDocument.load(path: path))
    }

    public func parse(_ doc: YAMLDocument) throws -> Fleet {
        let sink = DiagnosticSink()
        let fleet = read(doc, sink)
        guard sink.isEmpty, let fleet else {
            throw InputErrors(sink.isEmpty ? [Diagnostic(doc.location(doc.root), "the fleet cannot be read")] : sink.diagnostics)
        }
        return fleet
    }

    private func read(_ doc: YAMLDocument, _ sink: DiagnosticSink) -> Fleet? {
        guard let root = doc.root else {
            sink.add(doc.location(nil), "the fleet is empty; start from fleets/aws-example.yaml")
            return nil
        }
        guard let top = MappingReader(root, in: doc, context: "the fleet", sink: sink) else { return nil }
        defer { top.finish() }
        let header = SchemaHeader.read(top, document: "fleet", nameUse: "it names the inventory written",
                                       currencies: catalog.exchangeRates.currencies, sink: sink)
        var run = RunSettings()
        if let node = top.value("run"), let r = MappingReader(node, in: doc, context: "'run'", sink: sink) {
            run = InventoryLoader(catalog: catalog).readRun(r, sink: sink)
            r.finish()
        }
        var entries: [FleetEntry] = []
        guard let node = top.value("pairs") else {
            sink.add(doc.location(root), "the fleet has no 'pairs'; list at least one entry with provider, type, region and count")
            return nil
        }
        guard let list = node.sequence, !list.isEmpty else {
            sink.add(doc.location(node), "'pairs' must be a non-empty list of entries, each starting with '- name:'")
            return nil
        }
        var names: Set<String> = []
        for item in list.prefix(Self.maxEntries + 1) {
            guard entries.count < Self.maxEntries else {
                sink.add(doc.location(item), "a fleet has at most \(Self.maxEntries) entries")
                break
            }
            guard let r = MappingReader(item, in: doc, context: "a fleet entry", sink: sink) else { continue }
            if let e = readEntry(r, sink: sink) {
                if names.insert(e.name).inserted { entries.append(e) } else {
                    sink.add(r.keyLocation("name"), "entry name '\(e.name)' is used twice; entry names must be unique")
                }
            }
            r.finish()
        }
        if let first = entries.first, let other = entries.first(where: { $0.provider != first.provider }) {
            sink.add(doc.location(node), "entries use \(first.provider) and \(other.provider); a fleet is provisioned by one provider, split it into two fleets")
        }
        let pairs = entries.reduce(0) { $0 + $1.count }
        if pairs > Self.maxPairs {
            sink.add(doc.location(node), "the fleet asks for \(pairs) pairs; at most \(Self.maxPairs) at once")
        }
        return Fleet(file: doc.file, name: header.name, currency: header.currency, run: run, entries: entries)
    }

    public static let maxEntries = 64
    public static let maxPairs = 64
    public static let counts = 1...32

    private func readEntry(_ r: MappingReader, sink: DiagnosticSink) -> FleetEntry? {
        let before = sink.diagnostics.count
        let name = r.string("name", required: true)?.0 ?? ""
        if !name.isEmpty, !InventoryLoader.isSafeName(name) {
            sink.add(r.keyLocation("name"), "entry name '\(name)' may use letters, digits, '.', '_' and '-' only")
        }
        let instanceType = InstanceTypeReference.read(r, catalog: catalog, sink: sink)
        let (provider, type) = (instanceType.provider, instanceType.type)
        var region = ""
        if let (g, loc) = r.string("region", required: true) {
            if InventoryLoader.isSafeName(g) { region = g } else { sink.add(loc, "bad region '\(g)'") }
        }
        var zones: [String] = []
        if let list = r.stringList("zones") {
            if list.count > 2 || list.isEmpty {
                sink.add(r.keyLocation("zones"), "'zones' lists one zone (both members there) or two (server, client: cross-zone), not \(list.count)")
            }
            for (z, loc) in list.prefix(2) {
                if InventoryLoader.isSafeName(z) { zones.append(z) } else { sink.add(loc, "bad zone '\(z)'") }
            }
        }
        var group = false
        if let (g, loc) = r.string("placement_group") {
            if g == "cluster" { group = true } else if g != "none" {
                sink.add(loc, "'placement_group' is 'cluster' (AWS cluster placement, Azure proximity placement) or 'none', not '\(g)'")
            }
        }
        if group, zones.count == 2, zones[0] != zones[1] {
            sink.add(r.keyLocation("placement_group"), "a cluster placement group sits in one zone; list one zone or drop 'placement_group'")
        }
        // AWS: a cluster placement group; Azure: a proximity placement group.
        if group, provider != "aws", provider != "azure", !provider.isEmpty {
            sink.add(r.keyLocation("placement_group"), "'placement_group' is an AWS and Azure feature; \(provider) has none")
        }
        if provider == "digitalocean", !zones.isEmpty {
            sink.add(r.keyLocation("zones"), "DigitalOcean has no zones within a region; drop 'zones'")
        }
        var image: String?
        if let (i, loc) = r.string("image") {
            if i.count <= 256, i.allSatisfy({ $0.isLetter || $0.isNumber || "-_.:/".contains($0) }) { image = i } else {
                sink.add(loc, "bad image '\(i)'; give the provider's image id (AWS: ami-…) or leave it out for Ubuntu LTS")
            }
        }
        let count = r.int("count", range: Self.counts) ?? 1
        guard sink.diagnostics.count == before else { return nil }
        return FleetEntry(name: name, provider: provider, type: type, region: region, zones: zones,
                          placementGroup: group, image: image, count: count)
    }
}
