/// A test's knobs that make one (pair, path, test) several cells: the direction, the stream
/// count of a sweep and a UDP rate search. Each variant is its own cell, record and identity.
///
/// The plain variant (one stream, client to server, a fixed UDP rate) is what a cell was before
/// these knobs existed, and keeps its record ids (`RUN/PAIR/PATH/TEST/REP`); any other adds a
/// suffix to the test part of the id (`tcp_bw~server_to_client~s4`), so no two cells share an id.
public struct CellVariant: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var direction: Direction
    /// Parallel TCP streams (`tcp_bw`).
    public var streams: Int
    /// `udp_rate: search` (`udp_bw`, `udp_pps`): the highest offered rate with loss under 1 %.
    public var udpRateSearch: Bool
    /// A group's step (`HostGroup`): how many of its clients, servers or backends take part; nil
    /// for a pair's cell.
    public var groupStep: Int?
    /// A through group's reference: the step straight to the backends, without the middle.
    public var groupDirect = false

    public init(direction: Direction = .clientToServer, streams: Int = 1, udpRateSearch: Bool = false, groupStep: Int? = nil,
                groupDirect: Bool = false) {
        self.direction = direction
        self.streams = streams
        self.udpRateSearch = udpRateSearch
        self.groupStep = groupStep
        self.groupDirect = groupDirect
    }

    public static let plain = CellVariant()

    /// `~server_to_client~s4~search`: empty for the plain variant.
    public var idSuffix: String {
        var out = ""
        if direction != .clientToServer { out += "~\(direction.rawValue)" }
        if streams != 1 { out += "~s\(streams)" }
        if udpRateSearch { out += "~search" }
        if let groupStep { out += "~g\(groupStep)" }
        if groupDirect { out += "~direct" }
        return out
    }

    /// ` server_to_client 4 streams rate search`, for plans and progress lines; empty when plain.
    public var description: String {
        var parts: [String] = []
        if direction != .clientToServer { parts.append(direction.rawValue) }
        if streams != 1 { parts.append("\(streams) streams") }
        if udpRateSearch { parts.append("rate search") }
        if let groupStep { parts.append("step \(groupStep)" + (groupDirect ? " direct" : "")) }
        return parts.joined(separator: " ")
    }

    /// The knobs a record states in `detail` (`direction`, `streams`, `udp_rate: "search"`);
    /// plain where it says nothing, as a failed record without a measurement may.
    public static func of(test: String, detail: JSONValue?) -> CellVariant {
        // A group's step is its step alone: the agent's `direction` and summed `streams` beside it
        // describe the step's flows, not another cell.
        if let s = detail?["group"]?["step"]?.double, s.isFinite, s >= 1, s <= 1e6 {
            return CellVariant(groupStep: Int(s), groupDirect: detail?["group"]?["direct"] == .bool(true))
        }
        var v = CellVariant()
        if let d = detail?["direction"]?.string, let dir = Direction(rawValue: d) { v.direction = dir }
        if test == "tcp_bw", let s = detail?["streams"]?.double, s.isFinite, s >= 1, s <= 1e6 { v.streams = Int(s) }
        if test == "udp_bw" || test == "udp_pps", detail?["udp_rate"]?.string == "search" { v.udpRateSearch = true }
        return v
    }

    /// What a record of this variant states before any measurement: a failed cell's `detail`
    /// still says which cell it was. Empty for the plain variant.
    public func statedDetail(test: TestKind) -> [String: JSONValue] {
        guard self != .plain else { return [:] }
        if let groupStep {
            var group: [String: JSONValue] = ["step": .number(Double(groupStep))]
            if groupDirect { group["direct"] = .bool(true) }
            return ["group": .object(group)]
        }
        var out: [String: JSONValue] = ["direction": .string(direction.rawValue)]
        if test == .tcpBandwidth { out["streams"] = .number(Double(streams)) }
        if udpRateSearch { out["udp_rate"] = .string("search") }
        return out
    }

    /// The variants of `test` a pair runs: for `tcp_bw` every direction × stream count; for
    /// `udp_bw` and `udp_pps` the one-way directions (the agent has no bidirectional UDP test) and the rate
    /// search; one plain cell for other tests.
    public static func variants(test: TestKind, directions: [Direction], streams: [Int], udpRateSearch: Bool) -> [CellVariant] {
        switch test {
        case .tcpBandwidth:
            return directions.flatMap { d in streams.map { CellVariant(direction: d, streams: $0) } }
        case .udpBandwidth, .udpPackets:
            let oneWay = directions.filter { $0 != .bidirectional }
            return (oneWay.isEmpty ? [.clientToServer] : oneWay).map { CellVariant(direction: $0, udpRateSearch: udpRateSearch) }
        default:
            return [.plain]
        }
    }

    public static func < (a: CellVariant, b: CellVariant) -> Bool {
        (a.direction, a.streams, a.udpRateSearch ? 1 : 0, a.groupStep ?? 0, a.groupDirect ? 1 : 0)
            < (b.direction, b.streams, b.udpRateSearch ? 1 : 0, b.groupStep ?? 0, b.groupDirect ? 1 : 0)
    }
}
