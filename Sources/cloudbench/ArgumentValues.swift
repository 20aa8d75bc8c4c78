import ArgumentParser
import CloudbenchCore
import CloudbenchPricing
import CloudbenchReport

// Closed sets on the command line are the modules' own enums, so the parser checks them and
// `--help` lists them; no command turns a string into one by hand.

extension ReportOptions.ThroughputUnit: ExpressibleByArgument {}

extension PricedProvider: ExpressibleByArgument {}

/// `host`, `vxlan`, `udp`, or the name of an overlay the user runs: any name is a path.
extension PathKind: ExpressibleByArgument {
    public init?(argument: String) {
        guard !argument.isEmpty else { return nil }
        self.init(name: argument)
    }

    public var defaultValueDescription: String { name }
}
