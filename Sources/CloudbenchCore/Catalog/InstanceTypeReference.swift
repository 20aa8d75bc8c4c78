/// The `provider:` and `type:` keys with which an inventory's pair and a fleet's entry both name
/// an instance type, checked against the catalog. One reader, so both files say the same thing
/// at the same position.
public struct InstanceTypeReference: Sendable, Equatable {
    /// Empty when missing or not in the catalog (the problem is in the sink).
    public var provider: String
    /// As written (empty when missing); checked only when the provider is known.
    public var type: String

    public static func read(_ r: MappingReader, catalog: Catalog, sink: DiagnosticSink) -> InstanceTypeReference {
        var provider = ""
        if let (p, loc) = r.string("provider", required: true) {
            if catalog.types[p] == nil {
                sink.add(loc, "unknown provider '\(p)'" + Suggestion.hint(for: p, in: catalog.providers,
                    otherwise: "providers are \(catalog.providers.joined(separator: ", "))"))
            } else { provider = p }
        }
        var type = ""
        if let (t, loc) = r.string("type", required: true) {
            type = t
            if !provider.isEmpty, catalog.type(provider, t) == nil {
                sink.add(loc, "unknown instance type '\(t)' for \(provider)" + Suggestion.hint(
                    for: t, in: (catalog.types[provider] ?? [:]).keys, otherwise: "add it to providers/\(provider).yaml"))
            }
        }
        return InstanceTypeReference(provider: provider, type: type)
    }
}
