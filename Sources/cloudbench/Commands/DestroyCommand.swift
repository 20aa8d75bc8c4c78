import ArgumentParser
import CloudbenchCore
import CloudbenchPricing
import CloudbenchProvision
import Foundation

/// `cloudbench destroy RUNID`: everything tagged with the run, removed; again is harmless.
struct DestroyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "destroy",
        abstract: "Remove every resource of a provisioned run (found by its cloudbench-run tag); idempotent.")

    @Argument(help: "The run id `provision` printed.")
    var runID: String

    @Option(name: .customLong("region"), help: "Region to look in (default: those in the run's record).")
    var regions: [String] = []

    @Option(name: .customLong("runs-dir"), help: "Where runs keep their records.")
    var runsDirectory = "runs"

    @Option(name: .customLong("provider"), help: "Provider of a run whose record is lost: aws, digitalocean or azure (default: the record's, else aws).")
    var providerName: String?

    func validate() throws {
        if let p = providerName, !CloudProviders.names.contains(p) {
            throw ValidationError("--provider is one of \(CloudProviders.names.joined(separator: ", ")), not '\(p)'")
        }
        guard Provisioner.isRunID(runID) else { throw ValidationError("'\(runID)' is not a run id (letters, digits and '-')") }
    }

    func run() async throws {
        try await ErrorDoor.run {
            let recorded = (try? ProvisionJournal.load(path: "\(runsDirectory)/\(runID)/provision.json"))?.record.provider ?? providerName ?? "aws"
            let provider: ProvisionProvider
            if recorded.hasPrefix("lab:") {
                provider = LabProvider(labName: String(recorded.dropFirst(4)), catalog: nil)
            } else {
                provider = try CloudProviders.make(recorded)
            }
            let provisioner = Provisioner(provider: provider, runsDirectory: runsDirectory, log: { printError($0) })
            do {
                // DigitalOcean and Azure find a run account-wide; a region is only AWS's to need.
                let where_ = regions.isEmpty && CloudProviders.isGlobal(recorded) ? ["all"] : regions
                let removed = try provisioner.destroy(runID: runID, regions: where_)
                removed.forEach { print("removed \($0)") }
                print(removed.isEmpty ? "run \(runID): nothing left to remove" : "run \(runID): \(removed.count) resources removed")
            }
        }
    }
}

/// `cloudbench sweep`: every run cloudbench created that is still there (older than --older-than).
struct SweepCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Find and remove everything tagged cloudbench-managed=true, run by run; idempotent.")

    @Option(help: "Provider to sweep.")
    var provider = "aws"

    @Option(name: .customLong("older-than"), help: "Only runs created longer ago than this (e.g. 6h); default: every run.")
    var olderThan: String?

    @Option(name: .customLong("region"), help: "Region to look in (default: those of the run records in --runs-dir).")
    var regions: [String] = []

    @Option(name: .customLong("runs-dir"), help: "Where runs keep their records.")
    var runsDirectory = "runs"

    func validate() throws {
        guard CloudProviders.names.contains(provider) else {
            throw ValidationError("--provider is one of \(CloudProviders.names.joined(separator: ", ")), not '\(provider)'")
        }
        if let o = olderThan {
            guard let d = DurationValue.parse(o), d.seconds >= 0, d.seconds <= 366 * 86_400 else {
                throw ValidationError("--older-than must be a duration such as 6h or 30m, not '\(o)'")
            }
        }
    }

    func run() async throws {
        try await ErrorDoor.run {
            let cloud = try CloudProviders.make(provider)
            var where_ = regions
            if where_.isEmpty && CloudProviders.isGlobal(provider) {
                where_ = ["all"]
            } else if where_.isEmpty {
                let runs = (try? FileManager.default.contentsOfDirectory(atPath: runsDirectory)) ?? []
                for r in runs.sorted().prefix(10_000) {
                    if let j = try? ProvisionJournal.load(path: "\(runsDirectory)/\(r)/provision.json") { where_ += j.record.regions }
                }
                where_ = Array(Set(where_)).sorted()
            }
            guard !where_.isEmpty else {
                throw ProvisionError("no run records in \(runsDirectory)/ to take regions from; give --region (repeatable)", status: ExitStatus.badInput.rawValue)
            }
            let provisioner = Provisioner(provider: cloud, runsDirectory: runsDirectory, log: { printError($0) })
            do {
                let runs = try cloud.managedRuns(regions: where_)
                let cutoff = Date().addingTimeInterval(-(olderThan.flatMap(DurationValue.parse)?.seconds ?? 0))
                let due = runs.filter { $0.value <= cutoff }.keys.sorted()
                if due.isEmpty { print("nothing to sweep in \(where_.joined(separator: ", "))") }
                for run in due {
                    let removed = try provisioner.destroy(runID: run, regions: where_)
                    print("run \(run): \(removed.count) resources removed")
                }
                let younger = runs.count - due.count
                if younger > 0 { print("\(younger) younger runs left alone (--older-than)") }
            }
        }
    }
}

