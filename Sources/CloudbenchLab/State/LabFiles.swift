import Foundation

/// Where each file of a lab lives inside its state directory.
public struct LabFiles: Hashable, Sendable {
    public let directory: String

    public init(directory: String) { self.directory = directory }

    /// Present in every directory the lab made; `lab down` removes a directory only if it holds this,
    /// so a mistyped `--state-dir` can never delete someone's files.
    public var marker: String { directory + "/.cloudbench-lab" }
    public var state: String { directory + "/state.json" }
    public var profile: String { directory + "/profile.yaml" }
    /// The lab's one user key, accepted by every instance for root.
    public var identity: String { directory + "/id_ed25519" }
    public var authorizedKeys: String { directory + "/authorized_keys" }
    public var knownHosts: String { directory + "/known_hosts" }
    public var inventory: String { directory + "/inventory.yaml" }
    /// Run by `compare` before each cell under `lab exec` (`CLOUDBENCH_BEFORE_CELL`); only for
    /// a lab with burst pairs: refills their credit before their `tcp_bw` cells.
    public var beforeCell: String { directory + "/before-cell" }

    public func hostDirectory(_ instance: LabInstance) -> String { directory + "/hosts/" + instance.id }
    public func hostKey(_ instance: LabInstance) -> String { hostDirectory(instance) + "/ssh_host_ed25519_key" }
    public func sshdConfig(_ instance: LabInstance) -> String { hostDirectory(instance) + "/sshd_config" }
    public func sshdPidFile(_ instance: LabInstance) -> String { hostDirectory(instance) + "/sshd.pid" }
    /// `pps_limit:`: the nft script of the instance's packet-rate cap, and its stand-in `ethtool`.
    public func packetRateScript(_ instance: LabInstance) -> String { hostDirectory(instance) + "/pps-limit.nft" }
    public func standInEthtool(_ instance: LabInstance) -> String { hostDirectory(instance) + "/ethtool" }
    public func sshdLog(_ instance: LabInstance) -> String { hostDirectory(instance) + "/sshd.log" }

    /// Every pid file under `hosts/`, also of instances a crashed `lab up` never recorded.
    public func allPidFiles() -> [String] {
        let hosts = directory + "/hosts"
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: hosts)) ?? []
        return entries.sorted().map { "\(hosts)/\($0)/sshd.pid" }
            .filter { FileManager.default.fileExists(atPath: $0) }
    }
}
