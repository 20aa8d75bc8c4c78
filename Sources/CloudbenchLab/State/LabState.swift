import Foundation

/// What a lab made, as `state.json`: written before the first namespace exists and again when the lab is up.
public struct LabState: Codable, Hashable, Sendable {
    public var version = 1
    public var name: String
    public var profile: String
    public var hostSubnet: String
    public var overlaySubnet: String
    public var controllerNamespace: String
    public var controllerAddress: String
    public var fabricNamespace: String
    public var namespaces: [String]
    public var instances: [LabInstance]
    /// sshd listener pids by instance id, filled in as each sshd starts.
    public var sshdPids: [String: Int32]
    /// False until every sshd answered from the controller.
    public var complete: Bool
    public var created: String

    public init(layout: LabLayout) {
        name = layout.configuration.name
        profile = layout.profile.name
        hostSubnet = layout.configuration.hostSubnet
        overlaySubnet = layout.configuration.overlaySubnet
        controllerNamespace = layout.controllerNamespace
        controllerAddress = layout.controllerAddress
        fabricNamespace = layout.fabricNamespace
        namespaces = layout.namespaces
        instances = layout.instances
        sshdPids = [:]
        complete = false
        created = ISO8601DateFormatter().string(from: Date())
    }

    public static func read(_ files: LabFiles) -> LabState? {
        guard let data = FileManager.default.contents(atPath: files.state) else { return nil }
        return try? JSONDecoder().decode(LabState.self, from: data)
    }

    /// Writes atomically, so a killed `lab up` leaves the previous complete file, never half of one.
    public func write(_ files: LabFiles) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(self).write(to: URL(fileURLWithPath: files.state), options: .atomic)
    }
}
