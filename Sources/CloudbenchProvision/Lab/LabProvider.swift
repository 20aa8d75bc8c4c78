import CloudbenchCore
import CloudbenchLab
import Foundation

/// Hands out the pairs of a running lab (`cloudbench lab up --name NAME`) as if they were created,
/// so provision → compare → destroy runs end to end without a cloud.
///
/// A fleet entry takes lab pairs of its provider, type and region. "Creating" leases them (a file
/// `leases/<pair>` in the lab's state folder holding the run id and time, the lab's tags) and adds
/// the run's public key to the lab's authorized_keys; host keys come from the lab's known_hosts,
/// so nothing is trusted on first use. Destroying releases the leases and removes the key.
/// Provisioning from the lab runs inside its controller (`cloudbench lab exec`), like compare.
public final class LabProvider: ProvisionProvider {
    public let labName: String
    public var name: String { "lab:\(labName)" }
    public let apiCalls: [String: Int] = [:]
    let files: LabFiles
    let catalog: Catalog?
    public let sshUser = "root"
    public let sshSudo = false

    /// `catalog` reads the lab's inventory when creating; destroying needs none.
    public init(labName: String, catalog: Catalog?, stateDirectory: String? = nil) {
        self.labName = labName
        self.catalog = catalog
        files = LabFiles(directory: stateDirectory ?? LabConfiguration.defaultStateDirectory(for: labName))
    }

    var leases: String { files.directory + "/leases" }

    func labInventory() throws -> Inventory {
        guard LabState.read(files)?.complete == true else {
            throw ProvisionError("no lab '\(labName)' is up; bring it up with `cloudbench lab up --name \(labName)`", status: 2)
        }
        guard let catalog else { throw ProvisionError("the lab provider needs the catalogs to read the lab's inventory") }
        return try InventoryLoader(catalog: catalog).load(path: files.inventory)
    }

    /// Lab pair → (run id, lease time) of the leases held now.
    func held() -> [String: (String, Date)] {
        var out: [String: (String, Date)] = [:]
        for name in ((try? FileManager.default.contentsOfDirectory(atPath: leases)) ?? []).prefix(10_000) {
            guard let text = FileManager.default.contents(atPath: "\(leases)/\(name)").map({ String(decoding: $0.prefix(256), as: UTF8.self) })
            else { continue }
            let f = text.split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            guard f.count == 2, let date = ProvisionTags.date(f[1]) else { continue }
            out[name] = (f[0], date)
        }
        return out
    }

    public func create(_ request: ProvisionRequest, journal: ProvisionJournal) throws -> [ProvisionedPair] {
        let inventory = try labInventory()
        try FileManager.default.createDirectory(atPath: leases, withIntermediateDirectories: true)
        try addKey(request.publicKey)
        journal.add(kind: "lab-key", id: "cloudbench-\(request.runID)", region: name)
        var taken = Set(held().keys)
        var out: [ProvisionedPair] = []
        for entry in request.fleet.entries {
            for pairName in entry.pairNames {
                if request.cancelled() { throw ProvisionError("stopped by a signal", status: 130) }
                guard let lab = inventory.pairs.first(where: {
                    $0.provider == entry.provider && $0.type == entry.type && $0.region == entry.region && !taken.contains($0.name)
                }) else {
                    let offered = inventory.pairs.map { "\($0.provider) \($0.type) \($0.region)" }.joined(separator: ", ")
                    throw ProvisionError("lab '\(labName)' has no free pair of \(entry.provider) \(entry.type) in \(entry.region) for \(pairName) (it has: \(offered))")
                }
                // O_EXCL: two runs never lease the same pair.
                let path = "\(leases)/\(lab.name)"
                let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o644)
                guard fd >= 0 else { throw ProvisionError("lab pair \(lab.name) was leased by another run meanwhile") }
                let line = "\(request.runID) \(ProvisionTags.time(request.createdAt))\n"
                _ = line.withCString { write(fd, $0, strlen($0)) }
                close(fd)
                journal.add(kind: "lab-lease", id: lab.name, region: name)
                taken.insert(lab.name)
                func instance(_ i: Instance) -> ProvisionedInstance {
                    ProvisionedInstance(id: "\(lab.name)/\(i.role.rawValue)", publicAddress: i.address, privateAddress: i.testIP,
                                        zone: i.zone ?? "lab", launchTime: request.createdAt)
                }
                out.append(ProvisionedPair(entry: entry.name, name: pairName, server: instance(lab.server), client: instance(lab.client)))
            }
        }
        return out
    }

    public func hostKeys(of instances: [ProvisionedInstance]) throws -> [String: [String]] {
        let text = FileManager.default.contents(atPath: files.knownHosts).map { String(decoding: $0, as: UTF8.self) } ?? ""
        var byAddress: [String: [String]] = [:]
        for line in text.split(separator: "\n").prefix(100_000) {
            let f = line.split(separator: " ")
            if f.count >= 3 { byAddress[String(f[0]), default: []].append("\(f[1]) \(f[2])") }
        }
        return instances.reduce(into: [:]) { out, i in if let k = byAddress[i.publicAddress] { out[i.id] = k } }
    }

    public func destroy(runID: String, regions: [String], journal: ProvisionJournal?, progress: (String) -> Void) throws -> [String] {
        var removed: [String] = []
        let now = Date()
        for (pair, lease) in held().sorted(by: { $0.key < $1.key }) where lease.0 == runID {
            try? FileManager.default.removeItem(atPath: "\(leases)/\(pair)")
            removed.append("lease of lab pair \(pair)")
            // Two instances held from the lease to now, as a cloud's launch to termination.
            journal?.update { $0.instance_seconds = ($0.instance_seconds ?? 0) + 2 * max(0, now.timeIntervalSince(lease.1)) }
        }
        if try removeKey(comment: "cloudbench-\(runID)") { removed.append("key cloudbench-\(runID) from the lab's authorized_keys") }
        return removed
    }

    public func managedRuns(regions: [String]) throws -> [String: Date] {
        held().values.reduce(into: [:]) { out, l in out[l.0] = min(out[l.0] ?? l.1, l.1) }
    }

    // The lab's authorized_keys is read by every instance's sshd; edits replace it whole.
    private func addKey(_ publicKey: String) throws {
        let current = FileManager.default.contents(atPath: files.authorizedKeys).map { String(decoding: $0, as: UTF8.self) } ?? ""
        try replaceAuthorizedKeys(current + (current.hasSuffix("\n") || current.isEmpty ? "" : "\n") + publicKey + "\n")
    }

    private func removeKey(comment: String) throws -> Bool {
        guard let data = FileManager.default.contents(atPath: files.authorizedKeys) else { return false }
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        let kept = lines.filter { !$0.hasSuffix(" " + comment) }
        guard kept.count != lines.count else { return false }
        try replaceAuthorizedKeys(kept.joined(separator: "\n"))
        return true
    }

    private func replaceAuthorizedKeys(_ text: String) throws {
        do { try Data(text.utf8).write(to: URL(fileURLWithPath: files.authorizedKeys), options: .atomic) } catch {
            throw FileError(files.authorizedKeys, "cannot update the lab's authorized_keys: \(error.localizedDescription)")
        }
        chmod(files.authorizedKeys, 0o600)
    }
}
