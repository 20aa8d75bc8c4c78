import CloudbenchCore

/// The cells of one pair, with the two hosts they run on.
public struct PairWork: Sendable {
    public var pair: Pair
    public var jobs: [CellJob]
    public var server: RemoteHost
    public var client: RemoteHost

    public init(pair: Pair, jobs: [CellJob], server: RemoteHost, client: RemoteHost) {
        self.pair = pair
        self.jobs = jobs
        self.server = server
        self.client = client
    }

    var hostKeys: Set<ObjectIdentifier> { [ObjectIdentifier(server), ObjectIdentifier(client)] }
}

/// What the run has learned that every pair must see: hosts lost, and whether to stop.
public actor RunState {
    public private(set) var lostHosts: [String: String] = [:]
    public private(set) var stopping = false

    public init() {}

    public func hostLost(_ label: String, reason: String) { if lostHosts[label] == nil { lostHosts[label] = reason } }
    public func stop() { stopping = true }
}

/// Runs pairs side by side, up to `parallel` at once, never one host in two cells at once.
///
/// Each pair runs its cells in plan order. A record is handed to `onRecord` (which persists it)
/// before the pair's next cell starts. When a host is lost, the cells left on it are recorded as
/// failed at once instead of each waiting out a timeout.
public struct RunScheduler: Sendable {
    public var parallel: Int
    public var runner = CellRunner()
    /// Tries once to connect again to a host whose connection was lost (and to clean it up);
    /// true when the host is back. A host that stays away is lost for the rest of the run.
    public var reconnect: @Sendable (RemoteHost) async -> Bool

    public init(parallel: Int, reconnect: @escaping @Sendable (RemoteHost) async -> Bool = { _ in false }) {
        self.parallel = max(1, parallel)
        self.reconnect = reconnect
    }

    public func run(_ works: [PairWork], state: RunState,
                    onStart: @escaping @Sendable (CellJob) async -> Void,
                    onOutcome: @escaping @Sendable (CellJob, CellOutcome) async -> Void) async {
        var waiting = works
        var busy: [Set<ObjectIdentifier>] = []
        await withTaskGroup(of: Set<ObjectIdentifier>.self) { group in
            while !waiting.isEmpty || !busy.isEmpty {
                let inUse = busy.reduce(into: Set<ObjectIdentifier>()) { $0.formUnion($1) }
                if busy.count < parallel, let i = waiting.firstIndex(where: { $0.hostKeys.isDisjoint(with: inUse) }) {
                    let work = waiting.remove(at: i)
                    busy.append(work.hostKeys)
                    group.addTask { await self.runPair(work, state: state, onStart: onStart, onOutcome: onOutcome); return work.hostKeys }
                    continue
                }
                guard let done = await group.next() else { break }
                busy.removeAll { $0 == done }
            }
        }
    }

    func runPair(_ work: PairWork, state: RunState,
                 onStart: @Sendable (CellJob) async -> Void,
                 onOutcome: @Sendable (CellJob, CellOutcome) async -> Void) async {
        // The path instance open now (one path of one round, with its agent server), reused by
        // the consecutive cells that share its key and closed before another one opens.
        var active: (key: String, path: ActivePath)?
        let jobs = work.jobs
        for (i, job) in jobs.enumerated() {
            if await state.stopping || Task.isCancelled { break }
            let lost = await state.lostHosts
            if let gone = [work.server.label, work.client.label].first(where: { lost[$0] != nil }) {
                active = nil
                await onOutcome(job, CellOutcome(record: runner.lostHostRecord(job, host: gone), skipped: nil, lostHost: nil))
                continue
            }
            await onStart(job)
            var outcome: CellOutcome
            if let a = active, a.key != job.pathInstanceKey {
                await runner.close(a.path, server: work.server, client: work.client)
                active = nil
            }
            if active == nil {
                let group = Array(jobs[i...].prefix { $0.pathInstanceKey == job.pathInstanceKey })
                switch await runner.open(group, server: work.server, client: work.client) {
                case .ready(let path): active = (job.pathInstanceKey, path)
                case .failed(let o): outcome = o
                    active = nil
                    if await handle(outcome, job, work, state: state, onOutcome: onOutcome) { return }
                    continue
                }
            }
            outcome = await runner.measure(job, on: active!.path, server: work.server, client: work.client)
            if outcome.lostHost != nil { active = nil }
            if await handle(outcome, job, work, state: state, onOutcome: onOutcome) {
                if let a = active { await runner.close(a.path, server: work.server, client: work.client) }
                return
            }
        }
        if let a = active { await runner.close(a.path, server: work.server, client: work.client) }
    }

    /// Reports a cell's outcome; true when the run is stopping and the pair must end now.
    private func handle(_ outcome: CellOutcome, _ job: CellJob, _ work: PairWork, state: RunState,
                        onOutcome: @Sendable (CellJob, CellOutcome) async -> Void) async -> Bool {
        if let h = outcome.lostHost, !(await state.stopping) {
            let host = h == work.server.label ? work.server : work.client
            if !(await reconnect(host)) { await state.hostLost(h, reason: outcome.record?.error ?? "lost") }
        }
        // A cell cut short by an interrupt is not a measurement: keep no record of it.
        if await state.stopping, outcome.record?.status != .ok { return true }
        await onOutcome(job, outcome)
        return false
    }
}
