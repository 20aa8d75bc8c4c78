/// `cloudbench plan --json`: the matrix, the order each pair runs its cells in and the
/// estimated time, the same figures `PlanText` prints (docs/json.md).
public struct PlanDocument: Encodable, Sendable {
    public struct PairPlan: Encodable, Sendable {
        public var name: String
        public var provider: String
        public var type: String
        public var region: String?
        public var placement: String?
        public var paths: [String]
        public var tests: [String]
        public var repetitions: Int
        public var cells: Int
        public var estimatedSeconds: Double
        /// Per round (repetition), the cells in the order they run: `PATH/TEST`.
        public var rounds: [[String]]

        enum CodingKeys: String, CodingKey {
            case name, provider, type, region, placement, paths, tests, repetitions, cells, rounds
            case estimatedSeconds = "estimated_seconds"
        }
    }

    /// A group (`HostGroup`): its steps in the order they run, after the pairs.
    public struct GroupPlan: Encodable, Sendable {
        public var name: String
        public var shape: String
        public var provider: String
        public var type: String
        public var hosts: Int
        public var repetitions: Int
        public var cells: Int
        public var estimatedSeconds: Double
        /// Per round: `tcp_bw~gSTEP` (`~direct` for a through group's reference).
        public var rounds: [[String]]

        enum CodingKeys: String, CodingKey {
            case name, shape, provider, type, hosts, repetitions, cells, rounds
            case estimatedSeconds = "estimated_seconds"
        }
    }

    public var schema = "cloudbench-plan/1"
    public var inventory: String
    public var file: String
    public var cells: Int
    public var parallel: Int
    public var seed: UInt64?
    public var warmupSeconds: Double
    public var durationSeconds: Double
    public var streams: Int
    public var estimatedWallSeconds: Double
    public var measuringSeconds: Double
    public var pairs: [PairPlan]
    /// Only when the inventory has `groups:`.
    public var groups: [GroupPlan]?
    /// Paths that need root, which hosts without sudo will skip.
    public var rootPaths: [String]
    public var hostsWithoutRoot: [String]

    enum CodingKeys: String, CodingKey {
        case schema, inventory, file, cells, parallel, seed, streams, pairs, groups
        case warmupSeconds = "warmup_seconds", durationSeconds = "duration_seconds"
        case estimatedWallSeconds = "estimated_wall_seconds", measuringSeconds = "measuring_seconds"
        case rootPaths = "root_paths", hostsWithoutRoot = "hosts_without_root"
    }

    /// `sustained` as for `PlanText`: burstable types' `tcp_bw` as `compare --sustained` runs them.
    public init(plan: Plan, inventory: Inventory, parallel: Int, sustained: SustainedRuns? = nil) {
        let estimate = TimeEstimate(plan: plan, run: inventory.run, parallel: parallel, sustained: sustained)
        self.inventory = inventory.name
        file = inventory.file
        cells = plan.cellCount
        self.parallel = parallel
        seed = plan.seed
        warmupSeconds = Double(inventory.run.warmup.milliseconds) / 1000
        durationSeconds = Double(inventory.run.duration.milliseconds) / 1000
        streams = inventory.run.streams.max() ?? 1
        estimatedWallSeconds = estimate.wallSeconds.rounded()
        measuringSeconds = estimate.measuringSeconds.rounded()
        pairs = plan.cellsByPair.map { pair, cells in
            let rounds = Dictionary(grouping: cells, by: \.repetition)
            return PairPlan(name: pair.name, provider: pair.provider, type: pair.type, region: pair.region.isEmpty ? nil : pair.region,
                            placement: pair.placement, paths: pair.paths.map(\.name), tests: pair.tests.map(\.rawValue),
                            repetitions: pair.repetitions, cells: cells.count,
                            estimatedSeconds: (estimate.pairSeconds[pair.name] ?? 0).rounded(),
                            rounds: rounds.keys.sorted().map { rounds[$0]!.map { "\($0.path.name)/\($0.testKey)" } })
        }
        if !plan.cellsByGroup.isEmpty {
            groups = plan.cellsByGroup.map { group, cells in
                let rounds = Dictionary(grouping: cells, by: \.repetition)
                return GroupPlan(name: group.name, shape: group.shape.rawValue, provider: group.provider, type: group.type,
                                 hosts: group.hosts.count, repetitions: group.repetitions, cells: cells.count,
                                 estimatedSeconds: (estimate.pairSeconds[group.name] ?? 0).rounded(),
                                 rounds: rounds.keys.sorted().map { rounds[$0]!.map(\.testKey) })
            }
        }
        rootPaths = Set(inventory.pairs.flatMap(\.paths).filter(\.needsRoot).map(\.name)).sorted()
        hostsWithoutRoot = rootPaths.isEmpty ? [] : inventory.hosts.filter { !$0.ssh.sudo && $0.ssh.user != "root" }.map(\.address)
    }
}
