import Foundation

/// What a provider charges besides instance-hours, from `providers/provision/<provider>.yaml`:
/// the billing unit, public IPv4 addresses, root disks and traffic between zones.
///
/// Each charge is a catalog price with a region (or `any`); a charge with no price for the
/// fleet's region is refused by the estimate, never borrowed from another region.
public struct ProvisionPrices: Sendable {
    public var provider: String
    /// Seconds per billed unit and the least billed per instance.
    public var billingUnit: Int
    public var billingMinimum: Int
    /// The most billed per instance and month, in seconds (DigitalOcean: 672 h, its monthly price); nil for no cap.
    public var billingMonthlyCap: Int?
    /// Seconds added to the run for creating, booting and tearing down.
    public var overheadSeconds: Int
    public var rootDiskGB: Int
    public var fallbackGbit: Double
    /// Per hour per address; per GB-month; per GB crossing zones (both directions' charges).
    public var publicIPv4Hour: [HourlyPrice]
    public var diskGBMonth: [HourlyPrice]
    public var crossZoneGB: [HourlyPrice]

    public static func path(directory: String, provider: String) -> String { "\(directory)/provision/\(provider).yaml" }

    public static func load(directory: String, provider: String, currencies: Set<String>) throws -> ProvisionPrices {
        let path = path(directory: directory, provider: provider)
        guard FileManager.default.fileExists(atPath: path) else {
            throw FileError(path, "no provisioning prices for \(provider); the estimate needs them")
        }
        let doc = try YAMLDocument.load(path: path)
        let sink = DiagnosticSink()
        var out = ProvisionPrices(provider: provider, billingUnit: 1, billingMinimum: 60, billingMonthlyCap: nil, overheadSeconds: 300, rootDiskGB: 8,
                                  fallbackGbit: 1, publicIPv4Hour: [], diskGBMonth: [], crossZoneGB: [])
        if let root = doc.root, let top = MappingReader(root, in: doc, context: "a provisioning prices file", sink: sink) {
            if let (p, loc) = top.string("provider", required: true), p != provider {
                sink.add(loc, "this file prices '\(p)', but it is named for '\(provider)'")
            }
            if let node = top.value("billing"), let r = MappingReader(node, in: doc, context: "'billing'", sink: sink) {
                out.billingUnit = seconds(r, "unit", 1...3600, sink) ?? 1
                out.billingMinimum = seconds(r, "minimum", 0...86_400, sink) ?? 0
                if r.value("monthly_cap") != nil {
                    out.billingMonthlyCap = seconds(r, "monthly_cap", 3600...(744 * 3600), sink)
                }
                r.finish()
            }
            out.overheadSeconds = seconds(top, "overhead", 0...86_400, sink) ?? 300
            out.rootDiskGB = top.int("root_disk_gb", range: 1...16_384, required: true) ?? 8
            if let (t, loc) = top.string("fallback_gbit") {
                if let g = Double(t), (0.001...1000).contains(g) { out.fallbackGbit = g } else { sink.add(loc, "'fallback_gbit' must be from 0.001 to 1000") }
            }
            func prices(_ key: String) -> [HourlyPrice] {
                guard let node = top.value(key) else {
                    sink.add(top.keyLocation(key), "a provisioning prices file needs '\(key)'")
                    return []
                }
                return (node.sequence ?? [node]).compactMap { CatalogFile.parsePrice($0, doc: doc, sink: sink, currencies: currencies) }
            }
            out.publicIPv4Hour = prices("public_ipv4_hour")
            out.diskGBMonth = prices("disk_gb_month")
            out.crossZoneGB = prices("cross_zone_gb")
            top.finish()
        }
        if !sink.isEmpty { throw InputErrors(sink.diagnostics) }
        return out
    }

    private static func seconds(_ r: MappingReader, _ key: String, _ range: ClosedRange<Int>, _ sink: DiagnosticSink) -> Int? {
        guard let (t, loc) = r.string(key) else { return nil }
        guard let d = DurationValue.parse(t), d.milliseconds % 1000 == 0, range.contains(d.milliseconds / 1000) else {
            sink.add(loc, "'\(key)' must be whole seconds from \(range.lowerBound)s to \(range.upperBound)s, like 60s or 5m, not '\(t)'")
            return nil
        }
        return d.milliseconds / 1000
    }

    /// The region's own price, else an `any` one; nil otherwise.
    public static func price(_ list: [HourlyPrice], region: String) -> HourlyPrice? {
        list.first { $0.region == region } ?? list.first { $0.region == InstanceType.anyRegion }
    }
}
