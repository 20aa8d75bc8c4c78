import ArgumentParser
import CloudbenchCore
import CloudbenchOrchestrator
import CloudbenchSSH

/// `cloudbench preflight INVENTORY`: is every host reachable, known and able to run the agent?
struct PreflightCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "preflight",
        abstract: "Connect to every host in parallel and show whether each is ready for a run.",
        discussion: """
            The first stage of `compare`, run alone: the same checks and the same verdicts. Exits 0 only if \
            every host is ready. Host keys are verified against the inventory's known_hosts.
            """)

    @OptionGroup var catalogOptions: CatalogOptions

    @OptionGroup var logOptions: LogOptions

    @Argument(help: "Inventory file (YAML, schema 1).")
    var inventory: String

    @Flag(help: "Record the key of a host not yet in known_hosts (like StrictHostKeyChecking=accept-new); a changed key is still refused.")
    var acceptNewHostKeys = false

    @Flag(help: "Print one JSON document (docs/json.md) instead of the table.")
    var json = false

    @Flag(help: "Also deploy the agent to the ready hosts (as compare does) and check from each pair's client that the ports its paths need are open.")
    var ports = false

    func run() async throws {
        try await ErrorDoor.run {
            let inv = try InventoryLoader(catalog: try catalogOptions.load()).load(path: inventory)
            try PlaceholderInventory.refuse(inv)
            let connector = LoggedConnector(SSHConnector(policy: acceptNewHostKeys ? .acceptNew : .strict), logger: logOptions.logger())
            let checked = await Preflight.check(PreflightTarget.all(inv, connector: connector))
            let rows = checked.map(\.row)
            let namespaces = await PreflightNamespaces.check(inv, checked: checked)
            var reach: [ReachReport] = []
            if ports {
                reach = await PreflightPorts.check(inv, checked: checked, agents: try AgentLocator.binaries(inventory: inv))
            }
            if json {
                var doc = PreflightDocument(rows)
                if ports { doc.pairs = reach.map(PreflightPortsDocument.init) }
                if !namespaces.isEmpty { doc.namespaces = namespaces.map(PreflightNamespaceDocument.init) }
                print(try JSONOutput.encode(doc), terminator: "")
            } else {
                print(PreflightTable.render(rows) + (namespaces.isEmpty ? "" : "\n" + PreflightNamespaces.render(namespaces))
                      + (ports ? "\n" + PreflightPorts.render(reach) : ""), terminator: "")
            }
            if !rows.allSatisfy(\.ready) || !reach.allSatisfy(\.ok) || !namespaces.allSatisfy(\.ok) { throw ExitCode(.failures) }
        }
    }
}

/// An inventory that describes measurements made elsewhere (hosts named `*.invalid`) is input
/// for `report`, never for connecting.
enum PlaceholderInventory {
    static func refuse(_ inventory: Inventory) throws {
        guard let h = inventory.hosts.first(where: \.isPlaceholder) else { return }
        throw FileError(inventory.file, "host \(h.address) is a placeholder (.invalid): this inventory describes measurements made elsewhere; use it with `cloudbench report --inventory`, not to connect")
    }
}
