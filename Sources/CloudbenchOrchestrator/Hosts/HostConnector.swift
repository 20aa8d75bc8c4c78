import CloudbenchCore

/// Opens a connection to an inventory host (SSH in real runs).
public protocol HostConnector: Sendable {
    func connect(_ host: Instance, label: String) async throws -> RemoteShell
}
