import ArgumentParser
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

/// Root check and error printing, shared by the lab subcommands.
enum LabCLI {
    static func requireRoot() throws {
        guard geteuid() == 0 else {
            FileHandle.standardError.write(Data("cloudbench lab: needs root (network namespaces); run it with sudo\n".utf8))
            throw ExitCode(2)
        }
    }

    /// Runs `body`, turning a `LabError` into one line on stderr and exit status 2 (bad input) or 1.
    static func guarded<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as LabError {
            FileHandle.standardError.write(Data("cloudbench lab: \(error.message)\n".utf8))
            throw ExitCode(error.isUsage ? 2 : 1)
        } catch let error as ExitCode {
            throw error
        } catch {
            FileHandle.standardError.write(Data("cloudbench lab: \(error)\n".utf8))
            throw ExitCode(1)
        }
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
                let path = try LabProfileLocator.locate(profile)
                let text = try String(contentsOfFile: path, encoding: .utf8)
                let parsed = try LabProfileParser.parse(text, source: path)
                let lab = Lab(configuration: config)
                LabInterruption.install()
                let started = Date()
                let outcome = try lab.up(profile: parsed, profileText: text, inventoryOut: inventoryOut) { line in
                    LabCLI.say(line)
                }
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
                throw ExitCode(1)
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
                throw ExitCode(1)
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
                LabCLI.say(row("INSTANCE", "NAMESPACE", "ADDRESS", "OVERLAY", "GOODPUT", "SSHD"))
                for i in status.instances {
                    let sshd = !i.namespaceExists ? "namespace missing"
                        : i.sshdRunning ? "running (pid \(i.sshdPid ?? 0))" : "not running"
                    LabCLI.say(row(i.instance.id, i.instance.namespace, i.instance.address,
                                   i.instance.overlayAddress ?? "-", i.instance.goodput.description, sshd))
                }
            }
            let known = Set(status.state?.namespaces ?? [])
            let strays = status.namespaces.filter { !known.contains($0) }
            if !strays.isEmpty { LabCLI.say("  namespaces not in the state file: \(strays.joined(separator: ", "))") }
            if !status.isUp { throw ExitCode(1) }
        }

        private func row(_ c: String...) -> String {
            let widths = [22, 26, 14, 14, 11]
            return c.enumerated().map { i, s in i < widths.count ? s.padding(toLength: max(widths[i], s.count + 1), withPad: " ", startingAt: 0) : s }
                .joined()
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
                guard FileManager.default.fileExists(atPath: "/var/run/netns/\(lab.controller.name)") else {
                    throw LabError("lab '\(config.name)' is not up (no namespace \(lab.controller.name)); run `cloudbench lab up` first")
                }
                let ip = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"].first { FileManager.default.isExecutableFile(atPath: $0) }
                guard let ip else { throw LabError("ip (iproute2) is not installed; run `make setup`") }
                setenv("CLOUDBENCH_LAB", config.name, 1)
                setenv("CLOUDBENCH_LAB_INVENTORY", lab.files.inventory, 1)
                // A lab with burst pairs refills their credit before their tcp_bw cells (docs/lab.md).
                if FileManager.default.isExecutableFile(atPath: lab.files.beforeCell) {
                    setenv("CLOUDBENCH_BEFORE_CELL", lab.files.beforeCell, 1)
                }
                // Replace this process: the command gets our terminal, signals and stdin, and its exit status is ours.
                let argv = [ip, "netns", "exec", lab.controller.name] + command
                let cArgs = argv.map { strdup($0) } + [nil]
                execv(ip, cArgs)
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
                LabCLI.say("PAIR            FROM -> TO             TARGET       MEASURED     ERROR")
                _ = try LinkCheck.run(layout: layout, tool: tool, seconds: seconds, pairs: pair.isEmpty ? nil : pair) { m in
                    let ok = m.isWithin(tolerance)
                    if !ok { failed += 1 }
                    let direction = "\(m.from.role.rawValue) -> \(m.to.role.rawValue)"
                    LabCLI.say(m.pair.padding(toLength: 16, withPad: " ", startingAt: 0)
                               + direction.padding(toLength: 23, withPad: " ", startingAt: 0)
                               + m.target.description.padding(toLength: 13, withPad: " ", startingAt: 0)
                               + m.measured.description.padding(toLength: 13, withPad: " ", startingAt: 0)
                               + String(format: "%+.1f %%", (m.ratio - 1) * 100) + (ok ? "" : "  OUT OF TOLERANCE"))
                }
                if failed > 0 { throw LabError("\(failed) link direction(s) off by more than \(tolerance * 100) %") }
            }
        }
    }
}
