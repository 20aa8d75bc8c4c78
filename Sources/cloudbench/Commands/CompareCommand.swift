import ArgumentParser
import CloudbenchCore
import CloudbenchOrchestrator
import CloudbenchReport
import CloudbenchSSH
import Foundation

/// `cloudbench compare INVENTORY`: the main job, from preflight to the published tables.
struct CompareCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Measure every pair on every path, keep every result, and write the comparison report.",
        discussion: """
            Validates the inventory, checks every host over SSH, deploys the agent, runs the matrix \
            (pairs × paths × tests × repetitions) and appends each result to RESULTS-DIR/RUN_ID.jsonl \
            as soon as it is measured. Ctrl-C stops the run, cleans up the hosts and keeps every \
            finished result; --resume RUN_ID runs only what is missing. Exits 0 when every cell \
            succeeded, 1 when any failed, 2 for bad input, 3 when requested cells were skipped \
            (--allow-skipped: 0), 130 when interrupted (docs/exit-codes.md).
            """)

    @OptionGroup var catalogOptions: CatalogOptions

    @OptionGroup var logOptions: LogOptions

    @Argument(help: "Inventory file (YAML, schema 1).")
    var inventory: String?

    @Option(help: "Provision this fleet, compare it, destroy it (docs/provision.md); instead of an inventory.")
    var fleet: String?

    @OptionGroup(title: "Provisioning (with --fleet)") var provisionOptions: ProvisionOptions

    @Option(name: .customLong("results-dir"), help: "Where result files go.")
    var resultsDirectory = "results"

    @Option(help: "Report file (default: reports/NAME.md); an SVG chart is written beside it.")
    var report: String?

    @Option(help: "Pairs that share no host run side by side, up to this many.")
    var parallel = 4

    @Option(help: "Run only the cells of this earlier run that have no ok record.")
    var resume: String?

    @Flag(help: "Record the key of a host not yet in known_hosts (like StrictHostKeyChecking=accept-new).")
    var acceptNewHostKeys = false

    @Option(help: "Shuffle the cells within each round with this seed.")
    var seed: UInt64?

    @Flag(help: "Run burstable types' tcp_bw cells for run.sustained_after, so a burst credit runs out inside the measured window.")
    var sustained = false

    @Flag(help: "Print only failures and the final table.")
    var quiet = false

    @Flag(help: "Exit 0 rather than 3 when requested cells were skipped (a path that needs root on a host without sudo).")
    var allowSkipped = false

    @Option(name: .customLong("merge"), help: "Earlier result files or folders to merge into the report.")
    var merge: [String] = []

    /// compare's own options, for the child `compare` that `--fleet` runs.
    var passedOn: [String] {
        var a = ["--results-dir", resultsDirectory, "--parallel", "\(parallel)"]
        if let d = catalogOptions.directory { a += ["--providers", d] }
        if let report { a += ["--report", report] }
        if let seed { a += ["--seed", "\(seed)"] }
        if sustained { a.append("--sustained") }
        if quiet { a.append("--quiet") }
        if acceptNewHostKeys { a.append("--accept-new-host-keys") }
        for m in merge { a += ["--merge", m] }
        return a
    }

    func validate() throws {
        guard parallel >= 1 else { throw ValidationError("--parallel must be at least 1 (it is how many pairs run at once)") }
        guard (inventory == nil) != (fleet == nil) else { throw ValidationError("give an inventory or --fleet FLEET, not both") }
        if fleet == nil, provisionOptions.isChanged {
            throw ValidationError("--yes, --max-cost, --ssh-from, --lab, --ssh-wait, --runs-dir and --inventories-dir go with --fleet")
        }
        if fleet != nil, resume != nil { throw ValidationError("--resume needs the inventory of that run, not --fleet (its instances are gone)") }
    }

    func run() async throws {
        let started = Date()
        if let fleet {
            let status = try ErrorDoor.run {
                try CompareFleet.run(fleet: fleet, options: provisionOptions, catalogOptions: catalogOptions,
                                     compareArguments: passedOn, reportPath: report)
            }
            if status != 0 { throw ExitCode(status) }
            return
        }
        let status: ExitStatus = try await ErrorDoor.run {
            let catalog = try catalogOptions.load()
            let inv = try InventoryLoader(catalog: catalog).load(path: inventory ?? "")
            inv.warningLines.forEach(printError)
            try PlaceholderInventory.refuse(inv)
            var options = CompareOptions()
            options.resultsDirectory = resultsDirectory
            options.parallel = parallel
            options.resumeRunID = resume
            options.seed = seed
            options.sustained = sustained
            options.beforeCell = CellHook.fromEnvironment()
            for w in SustainedRuns(inventory: inv, catalog: catalog, enabled: sustained).warnings(inv) { printError("warning: \(w)") }
            let run = CompareRun(inventory: inv, catalog: catalog,
                                 connector: SSHConnector(policy: acceptNewHostKeys ? .acceptNew : .strict),
                                 agents: try AgentLocator.binaries(inventory: inv), options: options,
                                 logger: logOptions.logger())
            let plan = Plan(inventory: inv, seed: seed)
            let total = plan.cellCount
            let progress: ProgressSink = isatty(STDERR_FILENO) == 1 && !quiet && !logOptions.verbose
                ? TerminalProgress(totalCells: total) : LogProgress(totalCells: total, quiet: quiet)
            let state = RunState()
            // Stop starting work, then end the SSH calls in flight (uploads, commands) within a
            // fraction of a second; the cleanup that follows makes calls of its own.
            // A closed pipe or terminal on stdout/stderr must not end the run before it cleans its hosts
            // and keeps its records: writes then fail quietly instead of raising SIGPIPE.
            signal(SIGPIPE, SIG_IGN)
            let signals = StopSignals(later: .exit("second interrupt: exiting now; run `cloudbench compare --resume` later, the next run cleans the hosts")) {
                Task {
                    await state.stop()
                    SSHAbort.request()
                    await progress.message("stopping: cleaning up the hosts…")
                }
            }
            defer { signals.cancel() }
            let summary = try await run.run(state: state, progress: progress)

            let reportPath = report ?? "reports/\(inv.name).md"
            if summary.records.contains(where: { $0.status == .ok }) || summary.earlierRecords.contains(where: { $0.status == .ok }) {
                try CompareReport.write(resultsPath: summary.resultsPath, merge: merge, inventory: inv,
                                        providersDirectory: catalogOptions.path, to: reportPath)
                print("report: \(reportPath)")
            }
            print(CompareStatus.render(summary, plan: plan), terminator: "")
            let figures = RunSummary(idealSeconds: summary.measuringSeconds / Double(summary.lanes),
                                     wallSeconds: Date().timeIntervalSince(started),
                                     cells: summary.records.count, lanes: summary.lanes,
                                     pastConfiguredSeconds: summary.pastConfiguredSeconds / Double(summary.lanes))
            print(figures.line)
            let summaryPath = "\(resultsDirectory)/\(summary.runID).summary.json"
            do { try OutputFile.write(figures.json(), to: summaryPath) } catch { printError("warning: \(error)") }
            return summary.exitStatus(allowSkipped: allowSkipped)
        }
        if status != .ok { throw ExitCode(status) }
    }
}
