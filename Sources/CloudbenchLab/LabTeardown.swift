import Foundation
import NetNS

/// What `lab down` removed, and anything it had to leave.
public struct LabDownReport: Sendable {
    public var namespaces: [String] = []
    public var processes: [Int32] = []
    public var removedStateDirectory = false
    /// One sentence per thing still there afterwards; empty when the lab is fully gone.
    public var leftovers: [String] = []

    public var removedNothing: Bool { namespaces.isEmpty && processes.isEmpty && !removedStateDirectory }
}

/// Removes a lab from its state file *and* by sweeping its namespace prefix, so it also cleans
/// up after a crashed or killed `lab up`.
struct LabTeardown {
    let configuration: LabConfiguration
    let files: LabFiles

    func run() -> LabDownReport {
        var report = LabDownReport()
        let prefix = configuration.namespacePrefix
        let state = LabState.read(files)

        // Processes first: a process keeps its namespace's network alive after `ip netns delete`.
        // sshd pids come from its pid files and are ended only if their command line still
        // names this lab's directory (a recycled pid belongs to someone else).
        var pids = Set<Int32>()
        let recorded = files.allPidFiles().compactMap(ProcessTable.pid(inFile:)) + (state.map { Array($0.sshdPids.values) } ?? [])
        for pid in recorded where ProcessTable.commandLine(pid)?.contains(files.directory) == true {
            pids.insert(pid)
        }
        let existing = Set(Namespace.existing(prefix: prefix).map(\.name))
        let namespaces = existing.union((state?.namespaces ?? []).filter { $0.hasPrefix(prefix) && existing.contains($0) })
        // Whatever else runs inside the lab's own namespaces (sshd sessions, agents started over
        // SSH) was started through the lab; found by namespace, never by process name.
        let spared = ProcessTable.selfAndAncestors()
        for ns in namespaces {
            let listing = (try? ProcessRunner.check(["ip", "netns", "pids", ns])) ?? ""
            for pid in listing.split(separator: "\n").compactMap({ Int32($0) }) where !spared.contains(pid) {
                pids.insert(pid)
            }
        }
        report.processes = ProcessTable.end(Array(pids).sorted())

        // The fabric goes last: deleting it first would cut the veths but leave namespaces behind on an error.
        let ordered = namespaces.sorted { a, b in
            (a.hasSuffix("-fabric") ? 1 : 0, a) < (b.hasSuffix("-fabric") ? 1 : 0, b)
        }
        for ns in ordered {
            Namespace(existing: ns).delete()
            report.namespaces.append(ns)
        }
        let still = Namespace.existing(prefix: prefix).map(\.name)
        if !still.isEmpty {
            report.leftovers.append("namespaces \(still.joined(separator: ", ")) could not be deleted; try `ip netns delete NAME`")
        }
        for pid in pids where ProcessTable.isAlive(pid) {
            report.leftovers.append("process \(pid) survived SIGKILL")
        }

        let fm = FileManager.default
        if fm.fileExists(atPath: files.marker) {
            do {
                try fm.removeItem(atPath: files.directory)
                report.removedStateDirectory = true
            } catch {
                report.leftovers.append("cannot remove \(files.directory): \(error.localizedDescription)")
            }
        } else if fm.fileExists(atPath: files.directory) {
            report.leftovers.append("left \(files.directory) in place: it holds no .cloudbench-lab marker, so the lab did not make it")
        }
        return report
    }
}
