import AgentContract
import CloudbenchCore
import CloudbenchSSH
import Foundation
import Logging

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
    /// Seconds each port of the reachability preflight may take (`PairReachability`).
    public var reachTimeout: Double = 5
    /// Seconds a host whose connection was lost has to answer again (a reboot, a link that went
    /// down) before it is lost for the rest of the run; it is tried every 2 s.
    public var reconnectWindow: Double = 20

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
    /// Σ (warm-up + duration) over the cells this invocation ran to a record (all it planned,
    /// unless it was interrupted), and the lanes it ran them on (min(`--parallel`, pairs)): what
    /// `RunSummary` divides.
    public var measuringSeconds: Double = 0
    /// Σ over those cells of how long they measured past their configured warm-up and duration.
    public var pastConfiguredSeconds: Double = 0
    public var lanes: Int = 1

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

    public var logger: Logger

    /// `logger` hears every remote command at debug level (host, duration, exit status, secrets
    /// redacted); the default drops everything.
    public init(inventory: Inventory, catalog: Catalog, connector: HostConnector, agents: AgentBinaries, options: CompareOptions,
                logger: Logger = Logger(label: "cloudbench", factory: { _ in SwiftLogNoOpLogHandler() })) {
        self.inventory = inventory
        self.catalog = catalog
        self.connector = LoggedConnector(connector, logger: logger)
        self.agents = agents
        self.options = options
        self.logger = logger
    }

    public func label(_ h: Instance) -> String { SSHTargets.label(h) }

    /// Agent uploads in flight at once.
    static let deploysAtOnce = 32

    public func run(state: RunState, progress: ProgressSink) async throws -> CompareSummary {
        let runID = try options.resumeRunID ?? claimRunID(name: inventory.name, directory: options.resultsDirectory)
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

        // 1. Preflight every host in parallel, exactly as `cloudbench preflight` does; a host that is
        //    not ready takes its pairs out of the run. 2. Deploy the agent to the ready ones.
        let hosts = inventory.hosts
        let checked = await Preflight.check(hosts.map { PreflightTarget($0, pair: "", connector: connector) })
        let deploy = AgentDeploy(binaries: agents)
        let deployed = HostResults()
        for (host, c) in zip(hosts, checked) where c.shell == nil {
            let own = c.row.host + ": "
            await deployed.failed(label(host), c.row.problems.map { $0.hasPrefix(own) ? String($0.dropFirst(own.count)) : $0 }
                .joined(separator: "; "))
        }
        // Results go to an actor, not through the group (see `Preflight.check`).
        // At most `deploysAtOnce` uploads in flight: each holds a buffer of the binary, and past a
        // few dozen they share this machine's CPU and link without finishing any sooner.
        await withTaskGroup(of: Void.self) { group in
            var running = 0
            for (host, c) in zip(hosts, checked) {
                guard let shell = c.shell, let facts = c.facts else { continue }
                if await state.stopping { break }
                let endpoint = host.endpoint, name = label(host), sudo = host.ssh.sudo
                if running == Self.deploysAtOnce { await group.next(); running -= 1 }
                running += 1
                group.addTask {
                    do { await deployed.ready(endpoint, try await deploy.deploy(shell: shell, facts: facts, sudoAllowed: sudo, runID: runID)) }
                    catch { await deployed.failed(name, "\(error)") }
                }
            }
        }
        let (merged, sameMachine) = SameMachine.merge(await deployed.hosts)
        for note in sameMachine { await progress.message("note: \(note)") }
        // Each ready machine's lease (and its watchdog) before anything else starts there: once
        // per machine, however many addresses reach it. Its period grows with the machines past
        // 60, so that renewing them all costs at most 20 SSH commands a second (`LeaseTerms`).
        let leasePeriod = LeaseTerms.period(hosts: Set(merged.values.map(ObjectIdentifier.init)).count)
        let leaseFailed = LeaseFailures()
        await withTaskGroup(of: Void.self) { group in
            var seen = Set<ObjectIdentifier>()
            for host in merged.values where seen.insert(ObjectIdentifier(host)).inserted {
                group.addTask {
                    do { try await HostLease.begin(on: host, runID: runID, period: leasePeriod) } catch {
                        await deployed.failed(host.label, "\(error)")
                        await leaseFailed.add(host)
                    }
                }
            }
        }
        let failedLeases = await leaseFailed.ids
        let connected = merged.filter { !failedLeases.contains(ObjectIdentifier($0.value)) }
        // Renewed from now on: the reachability preflight below may take longer than a lease.
        var machines = Set<ObjectIdentifier>()
        let renewal = LeaseRenewal(hosts: connected.values.filter { machines.insert(ObjectIdentifier($0)).inserted }, period: leasePeriod)
        defer { renewal.stop() }
        var problems = await deployed.problems
        problems.sort { $0.0 < $1.0 }
        for (h, why) in problems { await progress.message("host \(h): \(why)") }

        // 2b. Before a pair's first cell: can its client open the ports its paths need on the
        //     server (and back)? A closed port fails that pair alone, at once (Reach/). Every
        //     pair's check ends before the first cell, so before any agent server of this run
        //     holds the agent port (`AgentServers`): the answerer binds that port itself.
        let unreachable = await PairReachability.failures(inventory, hosts: connected, timeout: options.reachTimeout, progress: progress)

        // 3. The plan, less what a resumed run already has.
        let plan = Plan(inventory: inventory, seed: options.seed)
        let sustainedRuns = SustainedRuns(inventory: inventory, catalog: catalog, enabled: options.sustained)
        var works: [PairWork] = []
        var notRun: [String] = []
        var blocked: [([CellJob], String)] = []
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
            if let why = unreachable[pair.name] { blocked.append((jobs, why)); continue }
            works.append(PairWork(pair: pair, jobs: jobs, server: s, client: c))
        }
        // A group runs when all its hosts are ready, after the pairs (`GroupRunner`).
        var groupWorks: [GroupWork] = []
        var groupsNotRun: [String] = []
        for (group, cells) in plan.cellsByGroup {
            let hosts = group.hosts.map { connected[$0.endpoint] }
            guard let hub = hosts[0], hosts.allSatisfy({ $0 != nil }) else {
                notRun.append(group.name)
                groupsNotRun.append(group.name)
                continue
            }
            let pair = group.recordPair
            // A closed port found by the preflight fails every step of the group with its reason.
            let blockedWhy = unreachable[group.name]
            let price = group.price ?? catalog.price(group.provider, group.type, region: CellIdentity.region(group.region))?.money
            let agent = hub.layout.agentPath(sha256: hub.agentSHA)
            let jobs = cells.filter { !resume.isDone($0) }.map { cell -> CellJob in
                tag += 1
                return CellJob(runID: runID, pair: pair, cell: cell, attempt: resume.nextAttempt(cell), run: inventory.run,
                               serverAgent: agent, clientAgent: agent, serverLayout: hub.layout, clientLayout: hub.layout,
                               price: price, tag: "\(getpid())-\(tag)", beforeCell: options.beforeCell)
            }
            if let why = blockedWhy { blocked.append((jobs, why)); continue }
            let spokes = group.spokes.map { connected[$0.endpoint]! }
            groupWorks.append(GroupWork(group: group, jobs: jobs, hub: hub, otherClients: group.otherClients.map { connected[$0.endpoint]! },
                                        spokes: spokes, middle: group.middle.map { connected[$0.endpoint]! }))
        }
        let notRunWhy = await state.stopping ? "interrupted before its first cell" : "a host failed preflight or deploy"
        for p in notRun { await progress.message("\(groupsNotRun.contains(p) ? "group" : "pair") \(p): not run (\(notRunWhy))") }
        await progress.planned(cells: works.reduce(0) { $0 + $1.jobs.count } + blocked.reduce(0) { $0 + $1.0.count }
                               + groupWorks.reduce(0) { $0 + $1.jobs.count })
        let lanes = max(1, min(options.parallel, works.count))
        if options.parallel > works.count, !works.isEmpty {
            await progress.message("note: --parallel \(options.parallel) is more than the \(works.count) pairs to run; running \(lanes) at a time")
        }

        // 4. Run, appending each record before the pair's next cell.
        let records = try RunRecords(path: resultsPath)
        for (jobs, why) in blocked {
            for job in jobs {
                let outcome = CellOutcome(record: CellRunner().notRunRecord(job, reason: why), skipped: nil, lostHost: nil)
                await progress.started(job)
                try await records.append(outcome.record!)
                await progress.finished(job, outcome)
            }
        }
        let skippedBox = SkippedCells()
        let measured = MeasuredSeconds()
        // One agent server per host for the whole run; it may live as long as every cell could
        // take, though the host's lease ends it as soon as the run stops renewing.
        let longest = (works.flatMap(\.jobs) + groupWorks.flatMap(\.jobs)).reduce(0.0) { $0 + $1.clientTimeout } + 600
        let servers = AgentServers(deadlineSeconds: Int(min(longest, AgentLimits.deadline.upperBound)))
        var scheduler = RunScheduler(parallel: lanes) { host in
            guard let h = self.inventory.hosts.first(where: { self.label($0) == host.label }) else { return false }
            let until = Date().addingTimeInterval(self.options.reconnectWindow)
            var again = try? await self.connector.connect(h, label: host.label)
            while again == nil, Date() < until, !(await state.stopping) {
                try? await Task.sleep(nanoseconds: 2_000_000_000)
                again = try? await self.connector.connect(h, label: host.label)
            }
            guard let shell = again else { return false }
            host.replaceShell(shell)
            // What the broken cell left (its agents, tunnel, VXLAN device) goes before the next cell,
            // unless another run took the host while this one was away (`HostLock`).
            _ = try? await host.run(HostLock(layout: host.layout).unlessHeld(host.layout.cleanupScript, runID: runID),
                                    timeout: 30, privileged: host.hasRoot)
            // The agent again, in case the host came back without it (a reboot, a replaced
            // machine); the upload is a no-op when the same binary is in place, and the host was
            // just cleaned.
            guard (try? await deploy.deploy(shell: shell, facts: host.facts, sudoAllowed: host.sudoAllowed, runID: runID,
                                            cleaning: false)) != nil else { return false }
            // The cleanup ended the host's agent server and lease: a new lease, and a new server
            // for the next cell.
            await servers.forget(host)
            do { try await HostLease.begin(on: host, runID: runID, period: leasePeriod) } catch let held as HostLock.Held {
                // Its lease ran out while it was away and another run holds it now: lost for this run.
                await progress.message("host \(host.label): \(held)")
                return false
            } catch {}
            await progress.message("host \(host.label): connection lost and re-established")
            return true
        }
        scheduler.runner = CellRunner(servers: servers)
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
                    group.addTask { await self.stopRemoteProcesses(on: host, runID: runID) }
                }
            }
        }
        let onOutcome: @Sendable (CellJob, CellOutcome) async -> Void = { job, outcome in
            if let r = outcome.record {
                do { try await records.append(r) } catch {
                    await progress.message("cannot write \(resultsPath): \(error); stopping")
                    await state.stop()
                }
            }
            if let s = outcome.skipped { await skippedBox.add(job.cell, s) }
            else if let r = outcome.record {
                await measured.add(job.run.warmup.seconds + job.run.duration.seconds, pastConfigured: RunSummary.pastConfigured(r))
            }
            await progress.finished(job, outcome)
        }
        await scheduler.run(works, state: state, onStart: { job in await progress.started(job) }, onOutcome: onOutcome)
        // Then the groups, one at a time, each on all its hosts.
        let groups = GroupRunner(servers: servers)
        for work in groupWorks {
            await groups.run(work, state: state, onStart: { job in await progress.started(job) }, onOutcome: onOutcome)
        }
        // Its SSH calls block and do not see cancellation: wait for them (each has a timeout), so
        // no call is still in flight on a host during the cleanup below or when the process exits.
        interrupter.cancel()
        await interrupter.value

        // 5. Clean up every reachable host (which ends its agent server, watchdog and lease), and
        //    say what is left.
        await renewal.finish()
        //    Every host at once, one command each: clean up, then list what is still there.
        let lost = await state.lostHosts
        let found = HostLeftovers()
        await withTaskGroup(of: Void.self) { group in
            for (_, host) in connected where lost[host.label] == nil {
                group.addTask {
                    // Not on a host another run took over (this run's lease ran out): its agents stay.
                    let script = HostLock(layout: host.layout).unlessHeld(host.layout.cleanupScript + "; " + host.layout.leftoversScript,
                                                                          runID: runID)
                    do {
                        let out = try await host.run(script, timeout: 30, privileged: host.hasRoot)
                        await found.add(host.label, out.stdout.split(separator: "\n").map(String.init))
                    } catch {
                        // A host whose SSH went while its agents still measured (they renew its
                        // lease as they serve): its lease removes what is left.
                        let within = Int(LeaseTerms.expiry(period: leasePeriod) + leasePeriod)
                        await found.add(host.label, ["what this run left (the cleanup could not run: \(error); the host's lease removes it within \(within) s)"])
                    }
                }
            }
        }
        let leftovers = await found.items
        return CompareSummary(runID: runID, resultsPath: resultsPath, records: await records.written, earlierRecords: resume.records,
                              skipped: await skippedBox.items, hostProblems: problems, pairsNotRun: notRun,
                              leftovers: leftovers, interrupted: await state.stopping,
                              measuringSeconds: await measured.seconds, pastConfiguredSeconds: await measured.pastConfigured,
                              lanes: lanes)
    }

    /// Kills the agents cloudbench runs on `host` and removes its interfaces, over a new connection
    /// (unless another run than `runID` holds the host).
    func stopRemoteProcesses(on host: RemoteHost, runID: String) async {
        guard let h = inventory.hosts.first(where: { label($0) == host.label }),
              let shell = try? await connector.connect(h, label: host.label) else { return }
        let fresh = RemoteHost(shell: shell, facts: host.facts, sudoAllowed: host.sudoAllowed, agentSHA: host.agentSHA)
        _ = try? await fresh.run(HostLock(layout: host.layout).unlessHeld(host.layout.cleanupScript, runID: runID),
                                 timeout: 20, privileged: host.hasRoot)
    }
}

/// What the deploy stage made of each host: connected and ready, or a problem.
actor HostResults {
    var hosts: [String: RemoteHost] = [:]
    var problems: [(String, String)] = []
    func ready(_ endpoint: String, _ host: RemoteHost) { hosts[endpoint] = host }
    func failed(_ label: String, _ why: String) { problems.append((label, why)) }
}

/// The machines whose lease could not begin: their pairs are not run.
actor LeaseFailures {
    var ids: Set<ObjectIdentifier> = []
    func add(_ host: RemoteHost) { ids.insert(ObjectIdentifier(host)) }
}

actor HostLeftovers {
    var items: [String: [String]] = [:]
    func add(_ host: String, _ found: [String]) { if !found.isEmpty { items[host] = found } }
}

actor MeasuredSeconds {
    var seconds = 0.0
    var pastConfigured = 0.0
    func add(_ s: Double, pastConfigured extra: Double) { seconds += s; pastConfigured += extra }
}

actor SkippedCells {
    var items: [(Cell, String)] = []
    func add(_ c: Cell, _ why: String) { items.append((c, why)) }
}
