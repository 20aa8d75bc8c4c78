import CloudbenchCore
import CloudbenchOrchestrator
import Foundation

/// Finds the agent binaries to deploy: the one built beside `cloudbench` for this machine's
/// architecture, and any the inventory names for others.
enum AgentLocator {
    static func binaries(inventory: Inventory) throws -> AgentBinaries {
        var byArch = inventory.agentBinaries
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        let sibling = exe.deletingLastPathComponent().appendingPathComponent("cloudbench-agent").path
        if byArch[machineArch()] == nil {
            guard FileManager.default.isExecutableFile(atPath: sibling) else {
                throw FileError(sibling, "the agent is not built beside cloudbench; run `make build`")
            }
            byArch[machineArch()] = sibling
        }
        return AgentBinaries(byArch: byArch)
    }

    /// `uname -m` of this machine.
    static func machineArch() -> String {
        var u = utsname()
        uname(&u)
        return withUnsafeBytes(of: u.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }
}
