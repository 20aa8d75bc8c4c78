import ArgumentParser
import CloudbenchCore
import CloudbenchProvision
import Foundation

/// `cloudbench compare --fleet FLEET`: provision, compare the written inventory, destroy — the
/// destroy guaranteed whether compare succeeds, fails, or is stopped by SIGINT, SIGTERM or SIGHUP.
///
/// compare runs as a child `cloudbench compare INVENTORY`, so its own Ctrl-C handling (stop,
/// clean the hosts, keep every result) is unchanged; this process waits for it and then destroys.
enum CompareFleet {
    static func run(fleet: String, options: ProvisionOptions, catalogOptions: CatalogOptions, compareArguments: [String],
                    reportPath: String?) throws -> Int32 {
        let stop = StopSignals()
        defer { stop.cancel() }
        let (provisioner, result) = try options.provision(fleetPath: fleet, catalogOptions: catalogOptions, stop: stop)
        printError("run \(result.runID): comparing \(result.inventoryPath)")
        var status: Int32 = 1
        if !stop.received {
            do {
                status = try compare(inventory: result.inventoryPath, arguments: compareArguments
                    + (result.unverifiedHosts.isEmpty || compareArguments.contains("--accept-new-host-keys") ? [] : ["--accept-new-host-keys"]), stop: stop)
            } catch {
                printError("error: cannot run compare: \(error)")
            }
        }
        if stop.received && status == 0 { status = 130 }
        printError("run \(result.runID): destroying")
        do {
            let removed = try provisioner.destroy(runID: result.runID)
            printError("run \(result.runID): \(removed.count) resources removed")
            // The report compare wrote gets the estimate beside the instance time actually used.
            let name = ((result.inventoryPath as NSString).lastPathComponent as NSString).deletingPathExtension
            let report = reportPath ?? "reports/\(name).md"
            if FileManager.default.fileExists(atPath: report),
               let journal = try? ProvisionJournal.load(path: "\(provisioner.runDirectory(result.runID))/provision.json"),
               let handle = FileHandle(forWritingAtPath: report) {
                handle.seekToEndOfFile()
                handle.write(Data(ProvisionSummary.markdown(journal.record).utf8))
                handle.closeFile()
            }
        } catch {
            printError("error: destroying run \(result.runID) failed: \(error); run `cloudbench destroy \(result.runID)`")
            return status == 0 ? 1 : status
        }
        return status
    }

    static func compare(inventory: String, arguments: [String], stop: StopSignals) throws -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        if !FileManager.default.isExecutableFile(atPath: p.executableURL!.path) {
            p.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        }
        p.arguments = ["compare", inventory] + arguments
        try p.run()
        stop.setChild(p.processIdentifier)
        p.waitUntilExit()
        stop.setChild(0)
        return p.terminationReason == .uncaughtSignal ? 128 + p.terminationStatus : p.terminationStatus
    }
}
