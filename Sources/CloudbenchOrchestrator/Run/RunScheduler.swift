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
        for job in work.jobs {
            if await state.stopping || Task.isCancelled { return }
            let lost = await state.lostHosts
            if let gone = [work.server.label, work.client.label].first(where: { lost[$0] != nil }) {
                await onOutcome(job, CellOutcome(record: runner.lostHostRecord(job, host: gone), skipped: nil, lostHost: nil))
                continue
            }
            await onStart(job)
            let outcome = await runner.run(job, server: work.server, client: work.client)
            if let h = outcome.lostHost, !(await state.stopping) {
                let host = h == work.server.label ? work.server : work.client
                if !(await reconnect(host)) { await state.hostLost(h, reason: outcome.record?.error ?? "lost") }
            }
            // A cell cut short by an interrupt is not a measurement: keep no record of it.
            if await state.stopping, outcome.record?.status != .ok { return }
            await onOutcome(job, outcome)
        }
    }
}
