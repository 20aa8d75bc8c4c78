/// Which way a bandwidth test's payload goes: `directions:` in the inventory, `detail.direction`
/// in a record. Ingress and egress of an instance can be shaped differently, so each is its own cell.
public enum Direction: String, CaseIterable, Sendable, Hashable, Comparable {
    /// The client sends, the server receives (every tool's default).
    case clientToServer = "client_to_server"
    /// The server sends, the client receives (`--reverse`).
    case serverToClient = "server_to_client"
    /// Both at once (`--bidir`, `tcp_bw` only).
    case bidirectional

    /// Declaration order: the default first.
    public static func < (a: Direction, b: Direction) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}
