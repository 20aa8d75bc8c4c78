import CloudbenchCore

/// What `prices refresh` tells the user about its outcomes, and the exit status they add up to.
public struct RefreshSummary: Sendable {
    /// Lines for standard output: per provider, the prices written or why it was skipped.
    public var lines: [String] = []
    /// One sentence per provider that failed, for standard error.
    public var problems: [String] = []
    public var exitStatus: ExitStatus = .ok

    public init(_ outcomes: [PriceRefresh.Outcome]) {
        for o in outcomes {
            if let why = o.skipped {
                lines.append("\(o.provider): skipped, \(why); the catalog's prices stay")
                continue
            }
            if let e = o.error {
                problems.append("\(o.provider): \(e.message)")
                // Bad input outranks a network failure: fixing it is the user's next step.
                if e.isInputError || exitStatus == .ok { exitStatus = e.exitStatus }
                continue
            }
            lines.append("\(o.provider) (\(o.region)): \(o.prices.count) price\(o.prices.count == 1 ? "" : "s") written to \(o.path ?? "?")")
            for p in o.prices.sorted(by: { ($0.type, $0.region) < ($1.type, $1.region) }) {
                let was = o.previous[p.type].map { " (was \($0.money) \($0.status.rawValue) \($0.asOf.prefix(10)))" } ?? ""
                lines.append("  \(p.type): \(Money.plain(p.amount)) \(p.currency)/h\(was)")
            }
            for m in o.missing {
                lines.append("  \(m.type): not refreshed, \(m.reason); the catalog's price stays")
            }
        }
    }
}
