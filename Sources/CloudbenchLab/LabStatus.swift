import Foundation
import NetNS

/// What exists of a lab right now, checked against the system rather than trusted from the state file.
public struct LabStatusReport: Sendable {
    /// One instance as it is now.
    public struct Instance: Sendable {
        public let instance: LabInstance
        public let namespaceExists: Bool
        public let sshdPid: Int32?
        public let sshdRunning: Bool
    }

    public let configuration: LabConfiguration
    public let state: LabState?
    public let inventory: String?
    /// Namespaces with the lab's prefix that exist now.
    public let namespaces: [String]
    public let instances: [Instance]

    /// Nothing of the lab exists: no namespace, no state.
    public var isAbsent: Bool { namespaces.isEmpty && state == nil }

    /// Recorded complete, and every namespace and sshd it recorded is there.
    public var isUp: Bool {
        guard let state, state.complete else { return false }
        return state.namespaces.allSatisfy(namespaces.contains) && instances.allSatisfy { $0.namespaceExists && $0.sshdRunning }
    }
}

extension LabStatusReport {
    static func gather(configuration: LabConfiguration, files: LabFiles) -> LabStatusReport {
        let state = LabState.read(files)
        let namespaces = Namespace.existing(prefix: configuration.namespacePrefix).map(\.name).sorted()
        let instances = (state?.instances ?? []).map { instance -> Instance in
            let pid = ProcessTable.pid(inFile: files.sshdPidFile(instance)) ?? state?.sshdPids[instance.id]
            let running = pid.map { ProcessTable.isAlive($0) && ProcessTable.commandLine($0)?.contains(files.directory) == true } ?? false
            return Instance(instance: instance, namespaceExists: namespaces.contains(instance.namespace),
                            sshdPid: pid, sshdRunning: running)
        }
        let inventory = FileManager.default.fileExists(atPath: files.inventory) ? files.inventory : nil
        return LabStatusReport(configuration: configuration, state: state, inventory: inventory,
                               namespaces: namespaces, instances: instances)
    }
}

extension Lab {
    /// Names of every lab whose namespaces exist now, found by the `cbl-<name>-` prefix.
    public static func existingLabNames() -> [String] {
        let names = Namespace.existing(prefix: "cbl-").compactMap { ns -> String? in
            let parts = ns.name.split(separator: "-", maxSplits: 2)
            return parts.count == 3 ? String(parts[1]) : nil
        }
        return Array(Set(names)).sorted()
    }
}
