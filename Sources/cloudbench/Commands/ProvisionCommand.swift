import ArgumentParser
import CloudbenchCore
import CloudbenchPricing
import CloudbenchProvision
import Foundation

/// `cloudbench provision FLEET`: the estimate first, then instances, SSH, host keys and an inventory.
struct ProvisionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "provision",
        abstract: "Create a fleet's instances (cost estimate first), wait for SSH and write an inventory for compare.",
        discussion: """
            Prints the estimated cost of the whole run; above --max-cost nothing is created unless --yes \
            (exit 4). Then creates a fresh ed25519 key, per pair a firewall allowing SSH only from \
            --ssh-from and test traffic only between the two members, and the instances, all tagged \
            cloudbench-run=RUNID and cloudbench-managed=true; waits until SSH answers, reads host keys \
            from the console, writes inventories/FLEET-RUNID.yaml and prints the run id. Anything that \
            fails (or Ctrl-C, SIGTERM, SIGHUP) removes everything the run created. See docs/provision.md.
            """)

    @OptionGroup var catalogOptions: CatalogOptions
    @OptionGroup var options: ProvisionOptions

    @Argument(help: "Fleet file (YAML, schema 1, fleets/*.yaml).")
    var fleet: String

    func run() async throws {
        let status: Int32 = try await ErrorDoor.run {
            let result = try options.provision(fleetPath: fleet, catalogOptions: catalogOptions).1
            print("run: \(result.runID)")
            print("inventory: \(result.inventoryPath)")
            print("next: cloudbench compare \(result.inventoryPath)\(result.unverifiedHosts.isEmpty ? "" : " --accept-new-host-keys"); then cloudbench destroy \(result.runID)")
            return 0
        }
        if status != 0 { throw ExitCode(status) }
    }
}

/// What `provision` and `compare --fleet` share: the cost guard, the source of SSH, the folders.
struct ProvisionOptions: ParsableArguments {
    @Flag(help: "Create even when the estimate is above --max-cost.")
    var yes = false

    @Option(name: .customLong("max-cost"), help: "Largest estimated cost created without --yes, in the fleet's currency.")
    var maxCost = "5"

    @Option(name: .customLong("ssh-from"), help: "The only source allowed to reach SSH, as a CIDR (this machine's public address/32).")
    var sshFrom: String?

    @Option(name: .customLong("runs-dir"), help: "Where each run keeps its key, known_hosts and provisioning record.")
    var runsDirectory = "runs"

    @Option(name: .customLong("inventories-dir"), help: "Where the written inventory goes.")
    var inventoriesDirectory = "inventories"

    @Option(help: "Hand out the pairs of this running lab instead of creating cloud instances (run it inside `cloudbench lab exec`).")
    var lab: String?

    @Option(name: .customLong("ssh-wait"), help: "Longest wait for SSH to answer on every instance.")
    var sshWait = "10m"

    /// Test-only (docs/provision.md): the moto tests' made-up addresses are never connected to.
    @Flag(name: .customLong("no-ssh-wait-test-only"), help: .hidden)
    var noSSHWaitTestOnly = false

    func validate() throws {
        guard let d = Money.decimal(maxCost), d >= 0, d <= 1_000_000 else {
            throw ValidationError("--max-cost must be an amount from 0 to 1000000, like 5 or 12.50, not '\(maxCost)'")
        }
        guard let w = DurationValue.parse(sshWait), (1...86_400).contains(w.seconds) else {
            throw ValidationError("--ssh-wait must be a duration from 1s to 24h, like 10m, not '\(sshWait)'")
        }
        if let s = sshFrom, !Self.isCIDR(s) {
            throw ValidationError("--ssh-from must be an IPv4 CIDR such as 203.0.113.7/32, not '\(s)'")
        }
    }

    /// Whether any provisioning option was given (compare takes them only with --fleet).
    var isChanged: Bool {
        yes || maxCost != "5" || sshFrom != nil || runsDirectory != "runs" || inventoriesDirectory != "inventories"
            || lab != nil || sshWait != "10m" || noSSHWaitTestOnly
    }

    static func isCIDR(_ s: String) -> Bool {
        let parts = s.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let bits = Int(parts[1]), (0...32).contains(bits) else { return false }
        let octets = parts[0].split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets.allSatisfy { o in o.count <= 3 && Int(o).map { (0...255).contains($0) } == true }
    }

    /// Loads, estimates, checks the guard, then provisions. Throws `ExitCode` 2 or 4 with the reason printed.
    func provision(fleetPath: String, catalogOptions: CatalogOptions, stop given: StopSignals? = nil) throws -> (Provisioner, Provisioner.Result) {
        let catalog = try catalogOptions.load()
        let fleet = try FleetLoader(catalog: catalog).load(path: fleetPath)
        if let lab {
            print("lab \(lab): no cost")
            let provisioner = Provisioner(provider: LabProvider(labName: lab, catalog: catalog), runsDirectory: runsDirectory,
                                          inventoriesDirectory: inventoriesDirectory, log: { printError($0) })
            return try run(provisioner, fleet: fleet, estimate: nil, sshFrom: sshFrom ?? "", stop: given)
        }
        let directory = catalogOptions.directory ?? Catalog.defaultDirectory()
        let prices = try ProvisionPrices.load(directory: directory, provider: fleet.provider, currencies: catalog.exchangeRates.currencies)
        let estimate: CostEstimate
        do {
            estimate = try CostEstimate(fleet: fleet, catalog: catalog, prices: prices)
        } catch let e as CostEstimate.Missing {
            throw ProvisionError("\(fleetPath): cannot estimate the cost: \(e); nothing was created", status: ExitStatus.badInput.rawValue)
        }
        print("estimated cost of \(fleet.name) (\(fleet.pairCount) pairs):")
        print(estimate.table)
        let limit = Money(Money.decimal(maxCost) ?? 5, fleet.currency)
        if estimate.total.amount > limit.amount && !yes {
            printError("refused: the estimate \(estimate.total) is above --max-cost \(limit); nothing was created. Raise --max-cost or add --yes.")
            throw ExitCode(.refusedByLimit)
        }
        guard let sshFrom else {
            throw ProvisionError("--ssh-from is required: the public address this machine connects from, as a CIDR (e.g. 203.0.113.7/32); cloudbench does not look it up on the internet", status: ExitStatus.badInput.rawValue)
        }
        let provisioner = Provisioner(provider: try CloudProviders.make(fleet.provider), runsDirectory: runsDirectory,
                                      inventoriesDirectory: inventoriesDirectory, log: { printError($0) })
        return try run(provisioner, fleet: fleet, estimate: estimate, sshFrom: sshFrom, stop: given)
    }

    private func run(_ provisioner: Provisioner, fleet: Fleet, estimate: CostEstimate?, sshFrom: String,
                     stop given: StopSignals?) throws -> (Provisioner, Provisioner.Result) {
        provisioner.sshDeadline = DurationValue.parse(sshWait)?.seconds ?? 600
        let stop = given ?? StopSignals.provisioning()
        provisioner.cancelled = { stop.received }
        defer { if given == nil { stop.cancel() } }
        // ProvisionError and EC2Error are UserFacingErrors: the one door prints them with their status.
        let result = try provisioner.provision(fleet: fleet, estimate: estimate, sshFrom: sshFrom, waitForSSH: !noSSHWaitTestOnly)
        for host in result.unverifiedHosts {
            printError("warning: \(host) printed no host key on its console; its key will be trusted on first use (compare --accept-new-host-keys)")
        }
        return (provisioner, result)
    }
}
