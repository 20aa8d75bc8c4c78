import CloudbenchCore

/// The providers whose price APIs `prices refresh` knows.
public enum PricedProvider: String, CaseIterable, Sendable {
    case aws
    case azure
    case digitalocean

    /// Parses a provider name; an unknown one is bad input with a did-you-mean.
    public init(parsing name: String) throws {
        guard let p = PricedProvider(rawValue: name) else {
            let names = Self.allCases.map(\.rawValue)
            throw PricingError("unknown provider '\(name)'" + Suggestion.hint(for: name, in: names)
                + "; choose one of \(names.joined(separator: ", "))", input: true)
        }
        self = p
    }
}
