import ArgumentParser
import CloudbenchCore

/// `cloudbench plan INVENTORY`: the matrix, its order and the estimated time; no network.
struct PlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Show the test matrix, the order it runs in and the estimated wall time, without touching the network.")

    @OptionGroup var catalogOptions: CatalogOptions

    @Argument(help: "Inventory file (YAML, schema 1).")
    var inventory: String

    @Option(help: "Pairs that share no host run side by side, up to this many.")
    var parallel: Int = 4

    @Option(help: "Shuffle the cells within each round with this seed (as compare --seed does).")
    var seed: UInt64?

    @Flag(help: "Print the plan as one JSON document (docs/json.md).")
    var json = false

    @Flag(help: "Estimate as compare --sustained runs: burstable types' tcp_bw for run.sustained_after.")
    var sustained = false

    func validate() throws {
        guard parallel >= 1 else { throw ValidationError("--parallel must be at least 1") }
    }

    func run() async throws {
        try await ErrorDoor.run {
            let catalog = try catalogOptions.load()
            let inv = try InventoryLoader(catalog: catalog).load(path: inventory)
            let plan = Plan(inventory: inv, seed: seed)
            let sustainedRuns = SustainedRuns(inventory: inv, catalog: catalog, enabled: sustained)
            print(json ? try JSONOutput.encode(PlanDocument(plan: plan, inventory: inv, parallel: parallel, sustained: sustainedRuns))
                       : PlanText.render(plan: plan, inventory: inv, parallel: parallel, sustained: sustainedRuns), terminator: "")
        }
    }
}
