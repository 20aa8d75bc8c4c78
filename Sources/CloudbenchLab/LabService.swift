import Foundation
import NetNS

/// What the `lab` commands ask of a lab, as calls a test can make without the CLI: bring it up
/// from a profile's name, and the command line that runs a program in its controller namespace.
extension Lab {
    /// Finds the profile (a name in lab/profiles or a path), parses it and brings the lab up.
    public func up(profileNamed profile: String, inventoryOut: String? = nil,
                   log: @escaping (String) -> Void = { _ in }) throws -> LabUpOutcome {
        let path = try LabProfileLocator.locate(profile)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let parsed = try LabProfileParser.parse(text, source: path)
        return try up(profile: parsed, profileText: text, inventoryOut: inventoryOut, log: log)
    }

    /// `ip netns exec CONTROLLER command…`, and the environment that names the lab to it.
    public func execArguments(_ command: [String]) throws -> (argv: [String], environment: [String: String]) {
        guard FileManager.default.fileExists(atPath: "/var/run/netns/\(controller.name)") else {
            throw LabError("lab '\(configuration.name)' is not up (no namespace \(controller.name)); run `cloudbench lab up` first")
        }
        guard let ip = try? ProcessRunner.resolve("ip") else { throw LabError("ip (iproute2) is not installed; run `make setup`") }
        var environment = ["CLOUDBENCH_LAB": configuration.name, "CLOUDBENCH_LAB_INVENTORY": files.inventory]
        // A lab with burst pairs refills their credit before their tcp_bw cells (docs/lab.md).
        if FileManager.default.isExecutableFile(atPath: files.beforeCell) {
            environment["CLOUDBENCH_BEFORE_CELL"] = files.beforeCell
        }
        return ([ip, "netns", "exec", controller.name] + command, environment)
    }
}
