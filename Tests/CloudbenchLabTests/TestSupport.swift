import Foundation
@testable import CloudbenchLab
import NetNS

/// Paths and fresh lab configurations for the tests.
enum TestSupport {
    static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func profilePath(_ name: String) -> String {
        packageRoot.appendingPathComponent("lab/profiles/\(name).yaml").path
    }

    static func loadProfile(_ name: String) throws -> (LabProfile, String) {
        let path = profilePath(name)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return (try LabProfileParser.parse(text, source: path), text)
    }

    /// A lab name no other test or run uses, and its own state directory under /tmp.
    /// `third` is the host /24's third octet inside 10.231.0.0/16; the overlay takes the next one.
    static func configuration(_ tag: String, third: Int) -> LabConfiguration {
        let name = "t\(getpid() % 100000)\(tag)"
        // The default state directory (/run/cloudbench-lab/NAME), as users get it: outside /tmp,
        // so instances get their private /tmp as they do for users.
        return LabConfiguration(name: name,
                                hostSubnet: "10.231.\(third)",
                                overlaySubnet: "10.231.\(third + 1)")
    }

    /// The built executable: `$CLOUDBENCH_BIN/<name>` under `make test`, else the debug build.
    static func executable(_ name: String) -> String? {
        if let bin = ProcessInfo.processInfo.environment["CLOUDBENCH_BIN"], !bin.isEmpty {
            let path = "\(bin)/\(name)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        let debug = packageRoot.appendingPathComponent(".build/debug/\(name)").path
        return FileManager.default.isExecutableFile(atPath: debug) ? debug : nil
    }

    /// A cloudbench-agent that implements the contract (its `conf --json` prints a JSON object), if built.
    static func workingAgent() -> String? {
        let candidate = ProcessInfo.processInfo.environment["CLOUDBENCH_AGENT"] ?? executable("cloudbench-agent")
        guard let path = candidate, FileManager.default.isExecutableFile(atPath: path),
              let out = try? ProcessRunner.check([path, "conf", "--json"]),
              (try? JSONSerialization.jsonObject(with: Data(out.utf8))) is [String: Any] else { return nil }
        return path
    }

    /// Root-namespace interface names: the lab must leave this list exactly as it found it.
    static func rootInterfaces() throws -> [String] {
        try ProcessRunner.check(["ip", "-o", "link", "show"]).split(separator: "\n").compactMap { line in
            line.split(separator: ":").dropFirst().first.map { $0.trimmingCharacters(in: .whitespaces) }
        }.sorted()
    }

    /// Whether anything of the lab is left: namespaces, live recorded pids, the state directory.
    static func leftovers(of config: LabConfiguration, pids: [Int32]) -> [String] {
        var found = Namespace.existing(prefix: config.namespacePrefix).map { "namespace \($0.name)" }
        found += pids.filter { kill($0, 0) == 0 && ProcessTable.isAlive($0) }.map { "process \($0)" }
        if FileManager.default.fileExists(atPath: config.stateDirectory) { found.append("directory \(config.stateDirectory)") }
        let dir = URL(fileURLWithPath: config.stateDirectory)
        let lock = dir.deletingLastPathComponent().appendingPathComponent(".\(dir.lastPathComponent).lock").path
        if FileManager.default.fileExists(atPath: lock) { found.append("lock file \(lock)") }
        return found
    }
}

extension TestSupport {
    /// Runs `argv` to completion with the shared runner (a lab command gets two minutes at most).
    static func execute(_ argv: [String]) throws -> CommandOutput {
        try ProcessRunner.run(argv, deadline: 120)
    }
}
