import CloudbenchCore
import CloudbenchSSH
import Foundation

/// Opens a connection to an inventory host (SSH in real runs).
public protocol HostConnector: Sendable {
    func connect(_ host: Instance, label: String) async throws -> RemoteShell
}

/// The agent binaries this machine can deploy, by architecture (`uname -m`).
public struct AgentBinaries: Sendable {
    public var byArch: [String: String]
    public init(byArch: [String: String]) { self.byArch = byArch }
}

/// How `compare` runs, from its command line.
public struct CompareOptions: Sendable {
    public var resultsDirectory = "results"
    public var parallel = 4
    public var resumeRunID: String?
    public var seed: UInt64?
    /// Burstable types' `tcp_bw` cells run for `run.sustained_after` (`--sustained`).
    public var sustained = false
    /// Run before each cell (`CLOUDBENCH_BEFORE_CELL`).
    public var beforeCell: CellHook?

    public init() {}
}

/// What a run did, for the status table and the exit status.
public struct CompareSummary: Sendable {
    public var runID: String
    public var resultsPath: String
    /// Records written by this invocation.
    public var records: [ResultRecord]
    /// Records of the run id from before this invocation (a resumed run).
    public var earlierRecords: [ResultRecord]
    public var skipped: [(Cell, String)]
    /// Hosts that failed preflight or deploy, with the reason.
    public var hostProblems: [(String, String)]
    /// Pairs not run because a host of theirs failed preflight.
    public var pairsNotRun: [String]
    /// What cleanup found still on a host afterwards (empty when clean).
    public var leftovers: [String: [String]]
    public var interrupted: Bool

    public var failedCount: Int { records.filter { $0.status == .failed }.count }
}

/// `cloudbench compare`: preflight every host, deploy the agent, run the matrix, clean up.
///
/// Validation happens before (the inventory is a value here); the report is rendered after,
/// from the records this returns.
public struct CompareRun: Sendable {
    public var inventory: Inventory
    public var catalog: Catalog
    public var connector: HostConnector
    public var agents: AgentBinaries
    public var options: CompareOptions

    public init(inventory: Inventory, catalog: Catalog, connector: HostConnector, agents: AgentBinaries, options: CompareOptions) {
        self.inventory = inventory
        self.catalog = catalog
        self.connector = connector
        self.agents = agents
        self.options = options
    }

    public func label(_ h: Instance) -> String { SSHTargets.label(h) }

    public func run(state: RunState, progress: ProgressSink) async throws -> CompareSummary {
        let runID = options.resumeRunID ?? makeRunID(name: inventory.name)
        let resultsPath = "\(options.resultsDirectory)/\(runID).jsonl"
        var resume = ResumeState()
        if options.resumeRunID != nil {
            guard FileManager.default.fileExists(atPath: resultsPath) else {
                throw FileError(resultsPath, "no such run to resume; run ids are the file names in \(options.resultsDirectory)/")
            }
            let loaded = try ResultStore.load(paths: [resultsPath])
            for w in loaded.warnings { await progress.message("warning: \(w)") }
            resume = ResumeState(records: loaded.records)
            await progress.message("resuming \(runID): \(resume.done.count) cells already measured")
        }

        // 1. Preflight every host in parallel; a host that fails takes its pairs out of the run.
        let hosts = inventory.hosts
        var connected: [String: RemoteHost] = [:]
        var problems: [(String, String)] = []
        await withTaskGroup(of: (String, Result<RemoteHost, Error>).self) { group in
            for h in hosts {
                group.addTask {
                    do { return (h.endpoint, .success(try await self.prepare(h))) } catch { return (h.endpoint, .failure(error)) }
                }
            }
            for await (endpoint, result) in group {
                switch result {
                case .success(let rh): connected[endpoint] = rh
                case .failure(let e):
                    let h = hosts.first { $0.endpoint == endpoint }!
                    problems.append((label(h), "\(e)"))
                }
            }
        }
        problems.sort { $0.0 < $1.0 }
        for (h, why) in problems { await progress.message("host \(h): \(why)") }

        // 2. The plan, less what a resumed run already has.
        let plan = Plan(inventory: inventory, seed: options.seed)
        let sustainedRuns = SustainedRuns(inventory: inventory, catalog: catalog, enabled: options.sustained)
        var works: [PairWork] = []
        var notRun: [String] = []
        var tag = 0
        for (pair, cells) in plan.cellsByPair {
            guard let s = connected[pair.server.endpoint], let c = connected[pair.client.endpoint] else {
                notRun.append(pair.name)
                continue
            }
            let price = pair.price ?? catalog.price(pair.provider, pair.type, region: CellIdentity.region(pair.region))?.money
            let jobs = cells.filter { !resume.isDone($0) }.map { cell -> CellJob in
                tag += 1
                return CellJob(runID: runID, pair: pair, cell: cell, attempt: resume.nextAttempt(cell),
                               run: sustainedRuns.settings(inventory.run, pair: pair, test: cell.test),
                               serverAgent: s.layout.agentPath(sha256: s.agentSHA), clientAgent: c.layout.agentPath(sha256: c.agentSHA),
                               serverLayout: s.layout, clientLayout: c.layout, price: price, tag: "\(getpid())-\(tag)",
                               beforeCell: options.beforeCell)
            }
            works.append(PairWork(pair: pair, jobs: jobs, server: s, client: c))
        }
        for p in notRun { await progress.message("pair \(p): not run (a host failed preflight)") }
        await progress.planned(cells: works.reduce(0) { $0 + $1.jobs.count })

        // 3. Run, appending each record before the pair's next cell.
        let records = try RunRecords(path: resultsPath)
        let skippedBox = SkippedCells()
        let scheduler = RunScheduler(parallel: options.parallel) { host in
            guard let h = self.inventory.hosts.first(where: { self.label($0) == host.label }),
                  let shell = try? await self.connector.connect(h, label: host.label) else { return false }
            host.replaceShell(shell)
            // What the broken cell left (its agents, tunnel, VXLAN device) goes before the next cell.
            _ = try? await host.run(host.layout.cleanupScript, timeout: 30, privileged: host.hasRoot)
            await progress.message("host \(host.label): connection lost and re-established")
            return true
        }
        // On an interrupt, stop what runs now: a second connection to each host kills cloudbench's
        // processes there (by their pid files), so the blocked commands of running cells return.
        let hostsToStop = Array(connected.values)
        let interrupter = Task {
            while !(await state.stopping) {
                try? await Task.sleep(nanoseconds: 100_000_000)
                if Task.isCancelled { return }
            }
            await withTaskGroup(of: Void.self) { group in
                for host in hostsToStop {
                    group.addTask { await self.stopRemoteProcesses(on: host) }
                }
            }
        }
        defer { interrupter.cancel() }
        await scheduler.run(works, state: state, onStart: { job in await progress.started(job) }, onOutcome: { job, outcome in
            if let r = outcome.record {
                do { try await records.append(r) } catch {
                    await progress.message("cannot write \(resultsPath): \(error); stopping")
                    await state.stop()
                }
            }
            if let s = outcome.skipped { await skippedBox.add(job.cell, s) }
            await progress.finished(job, outcome)
        })

        // 4. Clean up every reachable host, and say what is left.
        let lost = await state.lostHosts
        var leftovers: [String: [String]] = [:]
        for (_, host) in connected where lost[host.label] == nil {
            _ = try? await host.run(host.layout.cleanupScript, timeout: 30, privileged: host.hasRoot)
            if let out = try? await host.run(host.layout.leftoversScript, timeout: 15, privileged: host.hasRoot) {
                let items = out.stdout.split(separator: "\n").map(String.init)
                if !items.isEmpty { leftovers[host.label] = items }
            }
        }
        return CompareSummary(runID: runID, resultsPath: resultsPath, records: await records.written, earlierRecords: resume.records,
                              skipped: await skippedBox.items, hostProblems: problems, pairsNotRun: notRun,
                              leftovers: leftovers, interrupted: await state.stopping)
    }

    /// Kills the agents cloudbench runs on `host` and removes its interfaces, over a new connection.
    func stopRemoteProcesses(on host: RemoteHost) async {
        guard let h = inventory.hosts.first(where: { label($0) == host.label }),
              let shell = try? await connector.connect(h, label: host.label) else { return }
        let fresh = RemoteHost(shell: shell, facts: host.facts, sudoAllowed: host.sudoAllowed, agentSHA: host.agentSHA)
        _ = try? await fresh.run(host.layout.cleanupScript, timeout: 20, privileged: host.hasRoot)
    }

    /// Connects, learns the host's facts, deploys the agent and removes what an earlier run left.
    func prepare(_ h: Instance) async throws -> RemoteHost {
        let shell = try await connector.connect(h, label: label(h))
        let factsOut = try await shell.run(HostFacts.command, timeout: 20)
        guard let facts = HostFacts.parse(factsOut.stdout) else {
            throw RemoteError.failed(host: label(h), what: "reading the host's facts", output: factsOut)
        }
        if let why = facts.agentProblem { throw CellFailure("the agent cannot run here: \(why)") }
        guard let binary = agents.byArch[facts.arch] else {
            throw CellFailure("no agent binary for \(facts.arch); name one under 'agent: { \(facts.arch): PATH }' in the inventory")
        }
        let sha: String
        do { sha = try Digest.sha256Hex(ofFile: binary) } catch { throw FileError(binary, "cannot read the agent binary") }
        let host = RemoteHost(shell: shell, facts: facts, sudoAllowed: h.ssh.sudo, agentSHA: sha)
        let remote = host.layout.agentPath(sha256: sha)
        try await host.check("mkdir -p \(host.layout.directory)", what: "create \(host.layout.directory)")
        _ = try await shell.upload(localPath: binary, remotePath: remote, mode: 0o755)
        let version = try await host.check("\(remote) --version", what: "run the agent")
        if version.stdout.isEmpty { throw CellFailure("the agent printed no version") }
        _ = try? await host.run(host.layout.cleanupScript, timeout: 30, privileged: host.hasRoot)
        return host
    }
}


actor SkippedCells {
    var items: [(Cell, String)] = []
    func add(_ c: Cell, _ why: String) { items.append((c, why)) }
}
