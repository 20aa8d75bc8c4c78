import Foundation
import NetNS

/// What `lab up` did.
public enum LabUpOutcome: Sendable {
    /// Built from scratch; `replacedPartial` when leftovers of an earlier lab were removed first.
    case created(LabState, replacedPartial: Bool)
    /// The same lab was already up and healthy; nothing changed.
    case alreadyUp(LabState)

    public var state: LabState {
        switch self {
        case .created(let s, _), .alreadyUp(let s): return s
        }
    }
}

/// A lab of emulated cloud instances: network namespaces with their own sshd, on shaped links.
public struct Lab: Sendable {
    public let configuration: LabConfiguration
    public let files: LabFiles

    public init(configuration: LabConfiguration) {
        self.configuration = configuration
        self.files = LabFiles(directory: configuration.stateDirectory)
    }

    /// The namespace that reaches every instance and nothing else.
    public var controller: Namespace { Namespace(existing: configuration.namespacePrefix + "ctl") }

    /// Brings the lab up with `profile`; idempotent when the same lab is already up and healthy.
    ///
    /// `profileText` is stored beside the state so a later `lab up` can tell whether the profile changed.
    public func up(profile: LabProfile, profileText: String, inventoryOut: String? = nil,
                   log: @escaping (String) -> Void = { _ in }) throws -> LabUpOutcome {
        try up(profile: profile, profileText: profileText, inventoryOut: inventoryOut, log: log,
               abandonAfterSteps: nil, failAfterSteps: nil)
    }

    func up(profile: LabProfile, profileText: String, inventoryOut: String?,
            log: @escaping (String) -> Void, abandonAfterSteps: Int?, failAfterSteps: Int? = nil) throws -> LabUpOutcome {
        let layout = try LabLayout(configuration: configuration, profile: profile)
        if let inventoryOut {
            let parent = URL(fileURLWithPath: inventoryOut).deletingLastPathComponent().path
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: parent, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw LabError.usage("cannot write the inventory to \(inventoryOut): folder \(parent) does not exist")
            }
        }
        let lock = try LabLock(files: files, name: configuration.name)
        defer { release(lock) }
        try Prerequisites.check(Prerequisites.forUp)
        let status = status()
        var replaced = false
        if !status.isAbsent || FileManager.default.fileExists(atPath: files.marker) {
            if status.isUp, let state = status.state {
                let stored = try? LabProfileParser.load(path: files.profile)
                guard stored == profile, state.hostSubnet == configuration.hostSubnet,
                      state.overlaySubnet == configuration.overlaySubnet else {
                    throw LabError.usage("lab '\(configuration.name)' is already up with profile '\(state.profile)' on \(state.hostSubnet).0/24; "
                        + "run `cloudbench lab down` first, or give this one another --name")
                }
                if healthy(state) {
                    do { try copyInventory(to: inventoryOut) } catch let error as InventoryCopyError { throw LabError(error.message) }
                    return .alreadyUp(state)
                }
            }
            log("removing what is left of an earlier lab '\(configuration.name)'")
            let report = LabTeardown(configuration: configuration, files: files).run()
            guard report.leftovers.isEmpty else {
                throw LabError("cannot clear the earlier lab: \(report.leftovers.joined(separator: "; "))")
            }
            replaced = true
        }
        try refuseForeignDirectory()

        let builder = LabBuilder(layout: layout, files: files, profileText: profileText, log: log)
        builder.abandonAfterSteps = abandonAfterSteps
        builder.failAfterSteps = failAfterSteps
        do {
            let state = try builder.build()
            try copyInventory(to: inventoryOut)
            return .created(state, replacedPartial: replaced)
        } catch let error as InventoryCopyError {
            // The lab itself is fine; only the copy failed, so keep it up.
            throw LabError("lab '\(configuration.name)' is up, but \(error.message); its inventory is \(files.inventory)")
        } catch let abandoned as LabBuilder.Abandoned {
            throw abandoned
        } catch {
            // Leave nothing half-built behind: the next command starts from a clean system.
            _ = LabTeardown(configuration: configuration, files: files).run()
            // A Ctrl-C also reaches the program that was running, whose failure is not the news.
            if LabInterruption.isRequested { throw LabError("interrupted; removed what `lab up` had built") }
            throw error
        }
    }

    /// Removes every namespace, process and file of the lab, also after a killed `lab up`.
    public func down() throws -> LabDownReport {
        let lock = try LabLock(files: files, name: configuration.name)
        let report = LabTeardown(configuration: configuration, files: files).run()
        release(lock)
        return report
    }

    /// Releases the lock; once nothing of the lab exists, removes its lock file and an empty
    /// `/run/cloudbench-lab`, so a lab that is down leaves no trace.
    private func release(_ lock: LabLock) {
        let gone = isGone
        lock.release(removeFile: gone)
        let parent = URL(fileURLWithPath: files.directory).deletingLastPathComponent().path
        if gone, parent.hasSuffix("/cloudbench-lab"), (try? FileManager.default.contentsOfDirectory(atPath: parent))?.isEmpty == true {
            rmdir(parent)
        }
    }

    /// Nothing of the lab exists any more, so its lock file can go too.
    private var isGone: Bool {
        status().isAbsent && !FileManager.default.fileExists(atPath: files.directory)
    }

    /// What exists of the lab now.
    public func status() -> LabStatusReport {
        LabStatusReport.gather(configuration: configuration, files: files)
    }

    /// The layout of the lab that is up, rebuilt from its stored profile.
    public func currentLayout() throws -> LabLayout {
        guard let state = LabState.read(files), state.complete else {
            throw LabError("lab '\(configuration.name)' is not up; run `cloudbench lab up` first")
        }
        var config = configuration
        config.hostSubnet = state.hostSubnet
        config.overlaySubnet = state.overlaySubnet
        return try LabLayout(configuration: config, profile: try LabProfileParser.load(path: files.profile))
    }

    /// Every sshd answers from the controller: the lab works, not just exists.
    private func healthy(_ state: LabState) -> Bool {
        let ctl = Namespace(existing: state.controllerNamespace)
        return state.instances.allSatisfy { (try? SSHBanner.read(from: ctl, host: $0.address, timeout: 2))?.hasPrefix("SSH-2.0") == true }
    }

    private func refuseForeignDirectory() throws {
        let fm = FileManager.default
        let entries = (try? fm.contentsOfDirectory(atPath: files.directory)) ?? []
        if !entries.isEmpty && !fm.fileExists(atPath: files.marker) {
            throw LabError.usage("\(files.directory) exists and was not made by cloudbench lab; choose another --state-dir")
        }
    }

    private func copyInventory(to path: String?) throws {
        guard let path else { return }
        let text = (try? String(contentsOfFile: files.inventory, encoding: .utf8)) ?? ""
        // POSIX calls, so the reason reads like the system's ("Permission denied"), not Foundation's.
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw InventoryCopyError(message: "cannot write the inventory to \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                throw InventoryCopyError(message: "cannot write the inventory to \(path): \(String(cString: strerror(errno)))")
            }
            bytes = bytes.dropFirst(n)
        }
    }
}

private struct InventoryCopyError: Error {
    let message: String
}
