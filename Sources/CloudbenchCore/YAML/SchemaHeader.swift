/// The header an inventory and a fleet both start with: `version` (always 1), `name` (letters,
/// digits, `.`, `_`, `-`: it names files) and `currency` (one providers/fx.yaml has rates for;
/// USD when absent). One reader, so both files say the same thing at the same position.
public struct SchemaHeader: Sendable, Equatable {
    public static let version = "1"
    public static let defaultCurrency = "USD"

    public var name: String
    public var currency: String

    /// Reads the three keys of `top`; each problem goes to `sink` at its key's or value's
    /// position. `document` names the kind of file (`inventory`, `fleet`), `nameUse` what
    /// its name is used for.
    public static func read(_ top: MappingReader, document: String, nameUse: String,
                            currencies: Set<String>, sink: DiagnosticSink) -> SchemaHeader {
        if let (v, loc) = top.string("version", required: true), v != version {
            sink.add(loc, "unsupported \(document) version '\(v)'; this cloudbench reads version \(version)")
        }
        let name = top.string("name", required: true)?.0 ?? ""
        if !name.isEmpty, !InventoryLoader.isSafeName(name) {
            sink.add(top.keyLocation("name"), "'name' may use letters, digits, '.', '_' and '-' only (\(nameUse))")
        }
        var currency = defaultCurrency
        if let (c, loc) = top.string("currency") {
            if currencies.contains(c) { currency = c } else {
                sink.add(loc, "unknown currency '\(c)'" + Suggestion.hint(for: c, in: currencies,
                    otherwise: "known: \(currencies.sorted().joined(separator: ", ")); add others to providers/fx.yaml"))
            }
        }
        return SchemaHeader(name: name, currency: currency)
    }
}
