/// Hosts measured together rather than in pairs (`groups:`): several flows at once into one host
/// (`fan_in`), out of one host (`fan_out`), or from a client through a middle host to backends
/// (`through`), where one host's link can cap the whole group as the 2015 study's load balancer did.
///
/// Each step of a group is one cell of `tcp_bw` on the hosts' own network: the first `k` spokes
/// (clients, servers or backends) for each `k` of `steps`, all flows started together after a
/// barrier and measured over the same window (`GroupBandwidthTest` in the agent).
public struct HostGroup: Hashable, Sendable {
    public enum Shape: String, Hashable, Sendable, CaseIterable {
        /// Every client sends to one server at once.
        case fanIn = "fan_in"
        /// One client sends to every server at once.
        case fanOut = "fan_out"
        /// One client sends to every backend at once, each flow through the middle host.
        case through

        /// The key of the hosts a step counts, and of `sweep:`.
        public var spokesKey: String {
            switch self {
            case .fanIn: return "clients"
            case .fanOut: return "servers"
            case .through: return "backends"
            }
        }

        /// The key of the one host every flow shares (a through group's is a list of one).
        public var hubKey: String {
            switch self {
            case .fanIn: return "server"
            case .fanOut: return "client"
            case .through: return "clients"
            }
        }

        /// Every host key the shape takes.
        public var keys: [String] { [hubKey] + (self == .through ? ["middle"] : []) + [spokesKey] }
    }

    public var name: String
    public var shape: Shape
    public var provider: String
    public var type: String
    public var region: String
    /// The hourly price given in the inventory, overriding the catalog's (per instance).
    public var price: Money?
    public var priceAsOf: String?
    /// The host every flow starts or ends at: fan_in's server, fan_out's client, through's first client.
    public var hub: Instance
    /// through: the clients after the first (`clients:` lists them all); each sends its own flows
    /// in the same step (`cloudbench-agent send`), the hub runs the step.
    public var otherClients: [Instance] = []
    /// fan_in's clients, fan_out's servers, through's backends, in inventory order: a step of `k`
    /// uses the first `k`.
    public var spokes: [Instance]
    /// through: the middle host every flow crosses, where cloudbench runs the agent's TCP relay.
    public var middle: Instance?
    /// through: instead of `middle`, a balancer the user runs (`middle: { address, port, external:
    /// true }`: HAProxy, nginx, Envoy, a kernel or cloud load balancer). It picks the backend of
    /// each flow itself, so a step is a number of flows (`sweep: { flows: […] }`) sent to it, every
    /// backend ready for any of them.
    public var balancer: Balancer?
    /// The spokes of each step (`sweep:`), each its own cell; `[spokes.count]` without a sweep.
    /// With a `balancer`, the flows of each step.
    public var steps: [Int]

    /// An address and port that forwards TCP connections to the backends' agent port.
    public struct Balancer: Hashable, Sendable {
        public var address: String
        public var port: Int
        public init(address: String, port: Int) {
            self.address = address
            self.port = port
        }
        /// `ADDR:PORT`, an IPv6 address in brackets.
        public var endpoint: String { address.contains(":") ? "[\(address)]:\(port)" : "\(address):\(port)" }
    }

    /// What a step counts (`sweep:`'s key): the spokes, a through group's clients, or the flows
    /// sent through a balancer.
    public enum SweepOf: String, Hashable, Sendable { case spokes, clients, flows }
    public var sweepOf: SweepOf = .spokes

    /// What a step counts and `sweep:` names.
    public var stepKey: String { sweepOf == .spokes ? shape.spokesKey : sweepOf.rawValue }

    /// A through group's clients, the hub first.
    public var clients: [Instance] { [hub] + otherClients }

    /// The hosts and flows of one cell.
    public struct StepPlan: Equatable, Sendable {
        /// The first `clients` of a through group's clients (1 for the other shapes).
        public var clients: Int
        /// The first `spokes` spokes.
        public var spokes: Int
        /// Each flow's client and spoke (nil: a balancer of the user's picks it), in flow order; nil
        /// for a step of one client and one flow per spoke, which needs no pool.
        public var flows: [Flow]?

        public struct Flow: Equatable, Sendable {
            public var client: Int
            public var spoke: Int?
        }
    }

    /// What a cell of `step` runs: a step of spokes is the first `step` of them; of clients, the
    /// first `step` clients, each with one flow to every backend; through a balancer, `step` flows
    /// shared round robin among the clients, every backend ready for any. The direct reference
    /// sends one flow from each client to each of the step's backends (through a balancer, one
    /// flow to each backend), straight.
    public func plan(step: Int?, direct: Bool) -> StepPlan {
        let n = spokes.count, m = 1 + otherClients.count
        if balancer != nil {
            let count = direct ? n : max(1, step ?? n)
            guard !(direct && m == 1) else { return StepPlan(clients: 1, spokes: n, flows: nil) }
            return StepPlan(clients: min(m, count), spokes: n,
                            flows: (0..<count).map { StepPlan.Flow(client: $0 % m, spoke: direct ? $0 : nil) })
        }
        let c = sweepOf == .clients ? min(max(1, step ?? m), m) : m
        let k = sweepOf == .spokes ? min(max(1, step ?? n), n) : n
        guard c > 1 else { return StepPlan(clients: 1, spokes: k, flows: nil) }
        return StepPlan(clients: c, spokes: k, flows: (0..<c).flatMap { ci in (0..<k).map { StepPlan.Flow(client: ci, spoke: $0) } })
    }
    public var repetitions: Int

    public init(name: String, shape: Shape, provider: String, type: String, region: String, hub: Instance,
                spokes: [Instance], middle: Instance? = nil, steps: [Int], repetitions: Int) {
        self.name = name
        self.shape = shape
        self.provider = provider
        self.type = type
        self.region = region
        self.hub = hub
        self.spokes = spokes
        self.middle = middle
        self.steps = steps
        self.repetitions = repetitions
    }

    /// Every host of the group: the hub, the other clients, the middle, the spokes.
    public var hosts: [Instance] { [hub] + otherClients + (middle.map { [$0] } ?? []) + spokes }

    /// The TCP ports the agent's relay listens on on the middle: `agentPort + 1 + i` carries the
    /// flows of backend `i`.
    public func relayPort(backend i: Int, agentPort: Int) -> Int { agentPort + 1 + i }

    /// Jain's fairness index of per-flow rates: 1 when all are equal, 1/n when one takes all.
    public static func fairness(_ rates: [Double]) -> Double? {
        let squares = rates.reduce(0) { $0 + $1 * $1 }
        guard !rates.isEmpty, squares > 0 else { return nil }
        let sum = rates.reduce(0, +)
        return sum * sum / (Double(rates.count) * squares)
    }
}

extension HostGroup {
    /// The group as its records name it, where code shared with pairs reads a pair: the group's
    /// name, type and price; the hub as the client, the first spoke as the server (fan_in's hub is
    /// its server: then the other way round).
    public var recordPair: Pair {
        let first = spokes[0]
        let (server, client) = shape == .fanIn ? (hub, first) : (first, hub)
        return Pair(name: name, provider: provider, type: type, region: region, placement: nil, price: price, priceAsOf: priceAsOf,
                    server: server, client: client, paths: [.host], tests: [.tcpBandwidth], repetitions: repetitions)
    }
}
