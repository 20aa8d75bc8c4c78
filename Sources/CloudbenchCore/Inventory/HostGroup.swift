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
    /// The host every flow starts or ends at: fan_in's server, fan_out's and through's client.
    public var hub: Instance
    /// fan_in's clients, fan_out's servers, through's backends, in inventory order: a step of `k`
    /// uses the first `k`.
    public var spokes: [Instance]
    /// through: the middle host every flow crosses, where cloudbench runs the agent's TCP relay.
    public var middle: Instance?
    /// The spokes of each step (`sweep:`), each its own cell; `[spokes.count]` without a sweep.
    public var steps: [Int]
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

    /// Every host of the group: the hub, the middle, the spokes.
    public var hosts: [Instance] { [hub] + (middle.map { [$0] } ?? []) + spokes }

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
