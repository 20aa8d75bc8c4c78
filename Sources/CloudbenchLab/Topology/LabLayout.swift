import Foundation

/// Every name and address of a lab, computed from its configuration and profile before anything exists.
///
/// A pure value: `lab up` builds it, `lab down` sweeps it, tests check it without root.
public struct LabLayout: Hashable, Sendable {
    public let configuration: LabConfiguration
    public let profile: LabProfile
    public let fabricNamespace: String
    public let controllerNamespace: String
    public let controllerAddress: String
    /// The controller's veth end in the fabric namespace.
    public let controllerFabricDevice = "vctl"
    public let bridge = "br0"
    /// Two per pair, server first, in profile order.
    public let instances: [LabInstance]

    /// The controller takes `.1`; instances take `.10` upwards.
    static let firstInstanceHost = 10

    public init(configuration: LabConfiguration, profile: LabProfile) throws {
        try configuration.validate()
        let capacity = 254 - Self.firstInstanceHost + 1
        guard profile.pairs.count * 2 <= capacity else {
            throw LabError.usage("profile '\(profile.name)' has \(profile.pairs.count) pairs; a lab holds at most \(capacity / 2)")
        }
        self.configuration = configuration
        self.profile = profile
        let prefix = configuration.namespacePrefix
        fabricNamespace = prefix + "fabric"
        controllerNamespace = prefix + "ctl"
        controllerAddress = "\(configuration.hostSubnet).1"
        var instances: [LabInstance] = []
        for pair in profile.pairs {
            for role in [LabInstance.Role.server, .client] {
                let host = Self.firstInstanceHost + instances.count
                instances.append(LabInstance(
                    id: "\(pair.name)-\(role.rawValue)",
                    pair: pair.name,
                    role: role,
                    namespace: prefix + pair.name + (role == .server ? "-s" : "-c"),
                    fabricDevice: "v\(instances.count)",
                    address: "\(configuration.hostSubnet).\(host)",
                    overlayAddress: profile.overlay == nil ? nil : "\(configuration.overlaySubnet).\(host)",
                    goodputBytesPerSecond: pair.goodput(sentBy: role).bytesPerSecond,
                    ingressGoodputBytesPerSecond: pair.downGoodput == nil ? nil : pair.goodput(sentBy: role == .client ? .server : .client).bytesPerSecond,
                    burstPeakBytesPerSecond: pair.burst?.peak.bytesPerSecond,
                    burstCreditBytes: pair.burst?.creditBytes,
                    packetRateLimit: pair.packetRateLimit))
            }
        }
        self.instances = instances
    }

    /// Every namespace of the lab, the fabric last (removing it cuts every link at once).
    public var namespaces: [String] {
        [controllerNamespace] + instances.map(\.namespace) + [fabricNamespace]
    }

    public func instances(of pair: String) -> (server: LabInstance, client: LabInstance)? {
        guard let s = instances.first(where: { $0.pair == pair && $0.role == .server }),
              let c = instances.first(where: { $0.pair == pair && $0.role == .client }) else { return nil }
        return (s, c)
    }
}
