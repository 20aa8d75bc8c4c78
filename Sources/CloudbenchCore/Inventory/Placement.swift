/// Where the two instances of a pair sit relative to each other: a closed set.
///
/// `same-az` and `cross-az` (the words of earlier inventories and records) are read as
/// `same-zone` and `cross-zone`; an inventory that uses them gets a warning naming the new word.
public enum Placement: String, Sendable, Hashable, CaseIterable {
    case sameZone = "same-zone"
    case crossZone = "cross-zone"
    case placementGroup = "placement-group"

    /// Old names still accepted, and the placement each stands for.
    public static let aliases: [String: Placement] = ["same-az": .sameZone, "cross-az": .crossZone]

    /// A written name or alias; nil for anything else.
    public init?(name: String) {
        if let p = Placement(rawValue: name) { self = p } else if let p = Placement.aliases[name] { self = p } else { return nil }
    }

    /// The placement two known zones imply.
    public static func derived(serverZone: String, clientZone: String) -> Placement {
        serverZone == clientZone ? .sameZone : .crossZone
    }

    /// Whether two known zones allow this placement (a placement group sits in one zone).
    public func fits(serverZone: String, clientZone: String) -> Bool {
        switch self {
        case .sameZone, .placementGroup: return serverZone == clientZone
        case .crossZone: return serverZone != clientZone
        }
    }

    /// A record's placement as reports group it: aliases read as the new word, anything else
    /// (e.g. the 2015 study's `same-region`) kept as written, empty as nil.
    public static func canonical(_ text: String?) -> String? {
        guard let text, !text.isEmpty else { return nil }
        return Placement(name: text)?.rawValue ?? text
    }
}
