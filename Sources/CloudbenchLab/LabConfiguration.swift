import Foundation

/// Which lab a command acts on: its name, where its state lives and which subnets it uses.
public struct LabConfiguration: Hashable, Sendable {
    /// Short lowercase name; namespaces are called `cbl-<name>-…`.
    public var name: String
    /// Directory holding keys, sshd configs, pid files, `inventory.yaml` and `state.json`.
    public var stateDirectory: String
    /// First three octets of the host network /24, e.g. `10.240.0`.
    public var hostSubnet: String
    /// First three octets of the external overlay /24, e.g. `10.241.0`.
    public var overlaySubnet: String

    public static let defaultName = "lab"
    public static let defaultHostSubnet = "10.240.0"
    public static let defaultOverlaySubnet = "10.241.0"

    /// Where a lab keeps its state unless told otherwise: tmpfs, so a reboot forgets it with its namespaces.
    public static func defaultStateDirectory(for name: String) -> String {
        "/run/cloudbench-lab/\(name)"
    }

    public init(name: String = LabConfiguration.defaultName, stateDirectory: String? = nil,
                hostSubnet: String = LabConfiguration.defaultHostSubnet,
                overlaySubnet: String = LabConfiguration.defaultOverlaySubnet) {
        self.name = name
        self.stateDirectory = stateDirectory ?? LabConfiguration.defaultStateDirectory(for: name)
        self.hostSubnet = hostSubnet
        self.overlaySubnet = overlaySubnet
    }

    /// The prefix of every namespace this lab creates. Lab names hold no dash, so the prefix of
    /// lab `a` never matches a namespace of lab `ab` or `a-b`.
    public var namespacePrefix: String { "cbl-\(name)-" }

    /// Throws a usage error for a name or subnet the lab cannot use.
    public func validate() throws {
        guard name.range(of: #"^[a-z][a-z0-9]{0,11}$"#, options: .regularExpression) != nil else {
            throw LabError.usage("lab name '\(name)' must be 1-12 lowercase letters or digits, starting with a letter")
        }
        for (what, subnet) in [("subnet", hostSubnet), ("overlay subnet", overlaySubnet)] {
            let octets = subnet.split(separator: ".", omittingEmptySubsequences: false)
            guard octets.count == 3, octets.allSatisfy({ Int($0).map { (0...255).contains($0) } ?? false }) else {
                throw LabError.usage("\(what) '\(subnet)' must be the first three octets of a /24, e.g. 10.240.0")
            }
        }
        guard hostSubnet != overlaySubnet else {
            throw LabError.usage("the host subnet and the overlay subnet must differ (both are \(hostSubnet))")
        }
        guard stateDirectory.hasPrefix("/"), stateDirectory.count > 1 else {
            throw LabError.usage("state directory '\(stateDirectory)' must be an absolute path")
        }
    }
}
