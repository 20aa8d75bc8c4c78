import ArgumentParser
import CloudbenchCore
import CloudbenchLab
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `cloudbench lab`: emulated cloud instances in network namespaces, the built-in default cloud.
struct LabCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lab",
        abstract: "Emulated cloud instances (network namespaces with sshd on shaped links): try cloudbench for free.",
        discussion: """
        `lab up` builds the lab and writes an inventory. Only the lab's controller namespace reaches the lab, \
        so run `compare` there with `lab exec`:

          cloudbench lab up
          cloudbench lab exec -- cloudbench compare INVENTORY
          cloudbench lab down

        Every subcommand needs root. See docs/lab.md.
        """,
        subcommands: [Up.self, Down.self, Status.self, Exec.self, Check.self]
    )
}

/// Options every lab subcommand shares.
struct LabOptions: ParsableArguments {
    @Option(help: "Lab name (1-12 lowercase letters or digits); namespaces are called cbl-<name>-….")
    var name: String = LabConfiguration.defaultName

    @Option(name: .customLong("state-dir"), help: ArgumentHelp("Where the lab keeps keys, configs, pid files and the inventory.",
                                                                valueName: "dir"))
    var stateDirectory: String?

    func configuration(hostSubnet: String = LabConfiguration.defaultHostSubnet,
                       overlaySubnet: String = LabConfiguration.defaultOverlaySubnet) throws -> LabConfiguration {
        let dir = stateDirectory.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
        let config = LabConfiguration(name: name, stateDirectory: dir, hostSubnet: hostSubnet, overlaySubnet: overlaySubnet)
        try LabCLI.guarded { try config.validate() }
        return config
    }
}

/// Root check and the lab's errors, shared by the lab subcommands; printed by the one door.
enum LabCLI {
    static func requireRoot() throws {
        guard geteuid() == 0 else {
            throw ErrorDoor.present(LabError.usage("needs root (network namespaces); run it with sudo"), prefix: "cloudbench lab")
        }
    }

    /// Runs `body`; its errors go out through the door as `cloudbench lab: …`.
    static func guarded<T>(_ body: () throws -> T) throws -> T {
        try ErrorDoor.run(as: "cloudbench lab", body)
    }

    static func say(_ line: String) { print(line) }
}

extension LabCommand {
    struct Up: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Bring the lab up (idempotent) and write its inventory and known_hosts.")

        @OptionGroup var options: LabOptions

        @Option(help: "Profile name (in lab/profiles) or path to a profile YAML.")
        var profile: String = LabProfileLocator.defaultProfile

        @Option(name: .customLong("inventory-out"), help: ArgumentHelp("Also write the inventory here.", valueName: "file"))
        var inventoryOut: String?

        @Option(help: "First three octets of the lab's host /24.")
        var subnet: String = LabConfiguration.defaultHostSubnet

        @Option(name: .customLong("overlay-subnet"), help: "First three octets of the external overlay's /24.")
        var overlaySubnet: String = LabConfiguration.defaultOverlaySubnet

        func run() throws {
            try LabCLI.requireRoot()
            let config = try options.configuration(hostSubnet: subnet, overlaySubnet: overlaySubnet)
            try LabCLI.guarded {
                let lab = Lab(configuration: config)
                LabInterruption.install()
                let started = Date()
                let outcome = try lab.up(profileNamed: profile, inventoryOut: inventoryOut) { line in LabCLI.say(line) }
                let state = outcome.state
                switch outcome {
                case .alreadyUp:
                    LabCLI.say("lab '\(config.name)' is already up with profile \(state.profile) (\(state.instances.count) instances); nothing to do")
                case .created(_, let replaced):
                    let seconds = String(format: "%.1f", Date().timeIntervalSince(started))
                    LabCLI.say("lab '\(config.name)' is up: \(state.instances.count) instances of profile \(state.profile) in \(seconds) s"
                               + (replaced ? " (replaced a partial lab)" : ""))
                }
                LabCLI.say("  inventory:   \(lab.files.inventory)" + (inventoryOut.map { " (copied to \($0))" } ?? ""))
                LabCLI.say("  known_hosts: \(lab.files.knownHosts)")
                LabCLI.say("  controller:  \(state.controllerNamespace) (\(state.controllerAddress)), the only place that reaches the lab")
                let nameFlag = config.name == LabConfiguration.defaultName ? "" : " --name \(config.name)"
                LabCLI.say("next: cloudbench lab exec\(nameFlag) -- cloudbench compare \(inventoryOut ?? lab.files.inventory)")
            }
        }
    }

    struct Down: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove every namespace, process and file of the lab, also after a crash.")

        @OptionGroup var options: LabOptions

        func run() throws {
            try LabCLI.requireRoot()
            let config = try options.configuration()
            let report = try LabCLI.guarded { try Lab(configuration: config).down() }
            if report.removedNothing {
                LabCLI.say("lab '\(config.name)': nothing to remove")
            } else {
                LabCLI.say("lab '\(config.name)' is down: removed \(report.namespaces.count) namespaces, ended \(report.processes.count) processes"
                           + (report.removedStateDirectory ? ", deleted \(config.stateDirectory)" : ""))
            }
            guard report.leftovers.isEmpty else {
                for line in report.leftovers { FileHandle.standardError.write(Data("cloudbench lab: \(line)\n".utf8)) }
                throw ExitCode(.failures)
            }
        }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List what exists of the lab: namespaces, instances, sshd.",
            discussion: "Exits 0 when the lab is up and whole, 1 otherwise.")

        @OptionGroup var options: LabOptions

        func run() throws {
            try LabCLI.requireRoot()
            let config = try options.configuration()
            let status = Lab(configuration: config).status()
            if status.isAbsent {
                LabCLI.say("lab '\(config.name)': not up (no namespace named \(config.namespacePrefix)*, no state in \(config.stateDirectory))")
                let others = Lab.existingLabNames().filter { $0 != config.name }
                if !others.isEmpty {
                    LabCLI.say("other labs: \(others.joined(separator: ", ")) (see `cloudbench lab status --name NAME`)")
                }
                throw ExitCode(.failures)
            }
            let condition = status.isUp ? "up" : "partial (run `cloudbench lab down`, then `lab up`)"
            LabCLI.say("lab '\(config.name)': \(condition)" + (status.state.map { ", profile \($0.profile), created \($0.created)" } ?? ""))
            LabCLI.say("  state:      \(config.stateDirectory)")
            if let inventory = status.inventory { LabCLI.say("  inventory:  \(inventory)") }
            if let state = status.state {
                let ctl = status.namespaces.contains(state.controllerNamespace) ? "" : " (missing)"
                LabCLI.say("  controller: \(state.controllerNamespace) \(state.controllerAddress)\(ctl)")
                let fabric = status.namespaces.contains(state.fabricNamespace) ? "" : " (missing)"
                LabCLI.say("  fabric:     \(state.fabricNamespace) bridge br0\(fabric)")
            }
            if !status.instances.isEmpty {
                LabCLI.say("")
                let rows = status.instances.map { i -> [String] in
                    let sshd = !i.namespaceExists ? "namespace missing"
                        : i.sshdRunning ? "running (pid \(i.sshdPid ?? 0))" : "not running"
                    return [i.instance.id, i.instance.namespace, i.instance.address,
                            i.instance.overlayAddress ?? "-", i.instance.goodput.description, sshd]
                }
                print(TextTable.render([["INSTANCE", "NAMESPACE", "ADDRESS", "OVERLAY", "GOODPUT", "SSHD"]] + rows), terminator: "")
            }
            let known = Set(status.state?.namespaces ?? [])
            let strays = status.namespaces.filter { !known.contains($0) }
            if !strays.isEmpty { LabCLI.say("  namespaces not in the state file: \(strays.joined(separator: ", "))") }
            if !status.isUp { throw ExitCode(.failures) }
        }
    }

    struct Exec: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a command in the lab's controller namespace, the only place that reaches the lab.",
            discussion: "Passes its exit status through. CLOUDBENCH_LAB_INVENTORY names the lab's inventory.")

        @OptionGroup var options: LabOptions

        @Argument(parsing: .postTerminator, help: "The command and its arguments, after `--`.")
        var command: [String] = []

        func validate() throws {
            guard !command.isEmpty else { throw ValidationError("give the command after `--`, e.g. `cloudbench lab exec -- ping -c1 10.240.0.10`") }
        }

        func run() throws {
            try LabCLI.requireRoot()
            let config = try options.configuration()
            let lab = Lab(configuration: config)
            try LabCLI.guarded {
                let (argv, environment) = try lab.execArguments(command)
                for (name, value) in environment { setenv(name, value, 1) }
                // Replace this process: the command gets our terminal, signals and stdin, and its exit status is ours.
                let cArgs = argv.map { strdup($0) } + [nil]
                execv(argv[0], cArgs)
                throw LabError("cannot run \(command[0]) in \(lab.controller.name): \(String(cString: strerror(errno)))")
            }
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Measure each pair's link both ways and compare with the goodput it emulates.",
            discussion: "Uses iperf3, or cloudbench-agent with --agent. Exits 1 if a link is off by more than the tolerance.")

        @OptionGroup var options: LabOptions

        @Option(help: "Seconds per measurement.")
        var seconds: Double = 3

        @Option(help: ArgumentHelp("Measure with this cloudbench-agent binary instead of iperf3.", valueName: "path"))
        var agent: String?

        @Option(help: "Largest accepted relative error.")
        var tolerance: Double = 0.03

        @Option(help: "Only this pair (repeatable).")
        var pair: [String] = []

        func run() throws {
            try LabCLI.requireRoot()
            let config = try options.configuration()
            try LabCLI.guarded {
                guard seconds >= 1, seconds <= 60 else { throw LabError.usage("--seconds must be between 1 and 60") }
                let layout = try Lab(configuration: config).currentLayout()
                let tool: GoodputTool = agent.map { AgentGoodputTool(binary: $0) } ?? IPerf3Tool()
                var failed = 0
                let table = TextTable(widths: [14, 21, 11, 11])
                LabCLI.say(table.line(["PAIR", "FROM -> TO", "TARGET", "MEASURED", "ERROR"]))
                _ = try LinkCheck.run(layout: layout, tool: tool, seconds: seconds, pairs: pair.isEmpty ? nil : pair) { m in
                    let ok = m.isWithin(tolerance)
                    if !ok { failed += 1 }
                    let direction = "\(m.from.role.rawValue) -> \(m.to.role.rawValue)"
                    LabCLI.say(table.line([m.pair, direction, m.target.description, m.measured.description,
                                           String(format: "%+.1f %%", (m.ratio - 1) * 100) + (ok ? "" : "  OUT OF TOLERANCE")]))
                }
                if failed > 0 { throw LabError("\(failed) link direction(s) off by more than \(tolerance * 100) %") }
            }
        }
    }
}
