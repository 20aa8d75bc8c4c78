import ArgumentParser
import CloudbenchCore

/// `--providers DIR` (or `--catalog DIR`), the same option on every command that reads the catalogs.
struct CatalogOptions: ParsableArguments {
    @Option(name: [.customLong("providers"), .customLong("catalog")],
            help: ArgumentHelp("Folder of provider catalogs (default: providers/, or $CLOUDBENCH_PROVIDERS); --catalog is the same.",
                               valueName: "dir"))
    var directory: String?

    /// The folder in effect.
    var path: String { directory ?? Catalog.defaultDirectory() }

    func load() throws -> Catalog {
        try Catalog.load(directory: path)
    }
}
