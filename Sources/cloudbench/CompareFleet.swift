import ArgumentParser
import CloudbenchCore
import CloudbenchProcess
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
        let stop = StopSignals.provisioning()
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

    /// Runs `cloudbench compare INVENTORY ARGS` in its own process group (the one runner's
    /// `start`), on this process's terminal, so a terminal's Ctrl-C reaches only this process,
    /// which passes each signal on once (`StopSignals`): compare then stops and cleans its hosts
    /// as it does on its own Ctrl-C, and never sees a second signal.
    static func compare(inventory: String, arguments: [String], stop: StopSignals) throws -> Int32 {
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        let child: ChildProcess
        do {
            child = try ProcessRunner.start([exe, "compare", inventory] + arguments, stdin: .inherit,
                                            stdout: FileHandle.standardOutput, stderr: FileHandle.standardError)
        } catch {
            throw ProvisionError("cannot start compare: \(error)")
        }
        stop.setChild(child.processIdentifier)
        defer { stop.setChild(0) }
        child.waitUntilExit()
        return child.terminationStatus
    }
}
