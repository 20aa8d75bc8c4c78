/// One measurement to make: a pair, a path, a test (with its variant: direction, streams, UDP
/// rate search), a repetition.
public struct Cell: Hashable, Sendable, CustomStringConvertible {
    public var pair: String
    public var path: PathKind
    public var test: TestKind
    public var repetition: Int
    public var variant: CellVariant

    public init(pair: String, path: PathKind, test: TestKind, repetition: Int, variant: CellVariant = .plain) {
        self.pair = pair
        self.path = path
        self.test = test
        self.repetition = repetition
        self.variant = variant
    }

    /// The test part of the cell's record id and resume key: the test, plus the variant's suffix.
    public var testKey: String { test.rawValue + variant.idSuffix }

    public var description: String {
        "\(pair) \(path.name) \(test.rawValue)" + (variant == .plain ? "" : " (\(variant))") + " #\(repetition)"
    }
}

/// The test matrix of an inventory in the order it runs: a value, computed without the network.
///
/// Each pair runs its cells one after another, round by round: round r holds repetition r of
/// every (path, test, variant), so paths alternate (host, vxlan, udp, host, vxlan, udp, …) and slow drift
/// on a shared cloud hits every path alike. A seed shuffles the cells within each round.
public struct Plan: Sendable {
    public var inventoryName: String
    /// Pair name → its cells in run order.
    public var cellsByPair: [(pair: Pair, cells: [Cell])]
    public var seed: UInt64?
    /// Each group's steps, round by round (`HostGroup`): one tcp_bw cell per step and repetition,
    /// run after the pairs.
    public var cellsByGroup: [(group: HostGroup, cells: [Cell])] = []

    public var cellCount: Int { cellsByPair.reduce(0) { $0 + $1.cells.count } + cellsByGroup.reduce(0) { $0 + $1.cells.count } }

    public init(inventory: Inventory, seed: UInt64? = nil) {
        inventoryName = inventory.name
        self.seed = seed
        var rng = SplitMix64(seed: seed ?? 0)
        cellsByPair = inventory.pairs.map { pair in
            var cells: [Cell] = []
            for rep in 1...max(1, pair.repetitions) {
                var round: [Cell] = []
                for path in pair.paths {
                    for test in pair.tests {
                        for v in CellVariant.variants(test: test, directions: pair.directions, streams: pair.streams,
                                                      udpRateSearch: pair.udpRateSearch) {
                            round.append(Cell(pair: pair.name, path: path, test: test, repetition: rep, variant: v))
                        }
                    }
                }
                if seed != nil { round.shuffle(using: &rng) }
                cells += round
            }
            return (pair, cells)
        }
        cellsByGroup = inventory.groups.map { group in
            let cells = (1...max(1, group.repetitions)).flatMap { rep in
                // A through group's last cell of each round is its reference: the largest step without the
                // middle (without a balancer: one flow to each backend).
                let reference = group.balancer == nil ? group.steps.last! : group.spokes.count
                let direct = group.shape == .through ? [CellVariant(groupStep: reference, groupDirect: true)] : []
                return (group.steps.map { CellVariant(groupStep: $0) } + direct).map {
                    Cell(pair: group.name, path: .host, test: .tcpBandwidth, repetition: rep, variant: $0)
                }
            }
            return (group, cells)
        }
    }
}

/// A small, fixed pseudo-random generator, so `--seed N` gives the same order on every machine.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
