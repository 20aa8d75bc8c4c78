import CloudbenchCore
import Foundation

/// The provisioning engine, the same for every provider: estimate first, then create with a
/// journal, wait for SSH, read host keys, write the inventory; on any failure or signal, destroy
/// everything the run created before returning the error.
public final class Provisioner {
    public let provider: ProvisionProvider
    /// Where each run keeps its key, known_hosts and record: `RUNS/RUNID/`.
    public let runsDirectory: String
    public let inventoriesDirectory: String
    public var log: (String) -> Void
    public var runningDeadline: Double = 600
    public var sshDeadline: Double = 600
    /// Longest wait for host keys on the console once SSH answers (cloud-init prints them late in boot).
    public var hostKeyWait: Double = 120
    public var cancelled: @Sendable () -> Bool = { false }

    public init(provider: ProvisionProvider, runsDirectory: String = "runs", inventoriesDirectory: String = "inventories",
                log: @escaping (String) -> Void) {
        self.provider = provider
        self.runsDirectory = runsDirectory
        self.inventoriesDirectory = inventoriesDirectory
        self.log = log
    }

    public struct Result: Sendable {
        public var runID: String
        public var inventoryPath: String
        /// Hosts whose key the console did not show: the first connection records it (trust on first use).
        public var unverifiedHosts: [String]
    }

    /// `20261201-014100-3fa2`: sortable, unique enough, safe in every resource name.
    public static func makeRunID(now: Date = Date()) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyyMMdd-HHmmss"
        return f.string(from: now) + "-" + String(format: "%04x", UInt16.random(in: 0...UInt16.max))
    }

    public static func isRunID(_ s: String) -> Bool {
        s.count <= 40 && !s.isEmpty && s.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
    }

    public func runDirectory(_ runID: String) -> String { "\(runsDirectory)/\(runID)" }

    /// `estimate` is nil only for a provider that costs nothing (the lab).
    public func provision(fleet: Fleet, estimate: CostEstimate?, sshFrom: String, waitForSSH: Bool = true) throws -> Result {
        let runID = Self.makeRunID()
        let dir = runDirectory(runID)
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch { throw FileError(dir, "cannot create the run's folder: \(error.localizedDescription)") }
        let created = Date()
        let journal = try ProvisionJournal(path: "\(dir)/provision.json", record: .init(
            run_id: runID, fleet: fleet.file, provider: provider.name,
            regions: Array(Set(fleet.entries.map(\.region))).sorted(), created_at: ProvisionTags.time(created),
            estimate_total: estimate?.total.amountText ?? "0", estimate_currency: estimate?.total.currency ?? fleet.currency,
            estimate_billed_seconds_each: estimate?.billedSeconds ?? 0,
            estimate: (estimate?.lines ?? []).map { .init(item: $0.item, quantity: $0.quantity, amount: Money.plain(Money.rounded($0.amount.amount, places: 6)),
                                                 currency: $0.amount.currency) }))
        log("run \(runID): creating \(fleet.pairCount) pairs on \(provider.name)")
        do {
            let key = try RunKey.generate(directory: dir, runID: runID)
            let request = ProvisionRequest(runID: runID, fleet: fleet, publicKey: key.publicKey, sshFrom: sshFrom,
                                           createdAt: created, runningDeadline: runningDeadline, cancelled: cancelled)
            let pairs = try provider.create(request, journal: journal)
            journal.update { $0.pairs = pairs }
            let instances = pairs.flatMap { [$0.server, $0.client] }
            log("run \(runID): \(instances.count) instances running")
            var keys = try provider.hostKeys(of: instances)
            if waitForSSH {
                try SSHWait.untilAnswering(instances.map(\.publicAddress), deadline: sshDeadline, cancelled: cancelled)
                let end = Date().addingTimeInterval(hostKeyWait)
                while keys.count < instances.count && Date() < end && !cancelled() {
                    Thread.sleep(forTimeInterval: 5)
                    keys = try provider.hostKeys(of: instances)
                }
            }
            let unverified = instances.filter { keys[$0.id] == nil }.map(\.publicAddress)
            let knownHosts = "\(dir)/known_hosts"
            try Data(FleetInventory.knownHosts(pairs: pairs, keys: keys).utf8).write(to: URL(fileURLWithPath: knownHosts))
            let absolute = { (p: String) in p.hasPrefix("/") ? p : FileManager.default.currentDirectoryPath + "/" + p }
            let text = FleetInventory.text(fleet: fleet, runID: runID, pairs: pairs, key: absolute(key.privateKeyPath),
                                           knownHosts: absolute(knownHosts), user: provider.sshUser, sudo: provider.sshSudo)
            try FileManager.default.createDirectory(atPath: inventoriesDirectory, withIntermediateDirectories: true)
            let inventoryPath = "\(inventoriesDirectory)/\(fleet.name)-\(runID).yaml"
            try Data(text.utf8).write(to: URL(fileURLWithPath: inventoryPath), options: .atomic)
            journal.update { $0.inventory = inventoryPath; $0.provision_api_calls = provider.apiCalls }
            return Result(runID: runID, inventoryPath: inventoryPath, unverifiedHosts: unverified)
        } catch {
            log("run \(runID): \(error); removing everything it created")
            journal.update { $0.provision_api_calls = provider.apiCalls }
            do {
                _ = try destroy(runID: runID, journal: journal)
            } catch let cleanup {
                log("run \(runID): cleanup failed too: \(cleanup); run `cloudbench destroy \(runID)`")
            }
            throw error
        }
    }

    /// Removes everything tagged with `runID`: the regions come from the run's record, else `regions`.
    @discardableResult
    public func destroy(runID: String, regions: [String] = [], journal given: ProvisionJournal? = nil) throws -> [String] {
        let journal = given ?? (try? ProvisionJournal.load(path: "\(runDirectory(runID))/provision.json"))
        let all = Array(Set((journal?.record.regions ?? []) + regions)).sorted()
        guard !all.isEmpty else {
            throw ProvisionError("run \(runID) has no record in \(runDirectory(runID)); give --region to say where it ran", status: 2)
        }
        let before = provider.apiCalls
        let removed = try provider.destroy(runID: runID, regions: all, journal: journal, progress: log)
        let calls = provider.apiCalls.reduce(into: [String: Int]()) { out, c in
            let n = c.value - (before[c.key] ?? 0)
            if n > 0 { out[c.key] = n }
        }
        journal?.update { r in
            r.destroyed_at = ProvisionTags.time(Date())
            for (k, v) in calls { r.destroy_api_calls[k, default: 0] += v }
        }
        // The private key has no use once its instances are gone.
        for f in ["id_ed25519", "id_ed25519.pub"] { try? FileManager.default.removeItem(atPath: "\(runDirectory(runID))/\(f)") }
        return removed
    }
}
