@testable import CloudbenchCore
@testable import CloudbenchOrchestrator
import CloudbenchProcess
import Foundation

/// A host that answers compare's commands from a script, in memory: the seam that lets the
/// scheduler, the cell runner and preflight be tested without root, sshd or an agent.
final class FakeShell: RemoteShell, @unchecked Sendable {
    let label: String
    private let commands = Locked<[String]>([])
    private let respond: @Sendable (String) async throws -> CommandOutput

    init(label: String, respond: @escaping @Sendable (String) async throws -> CommandOutput) {
        self.label = label
        self.respond = respond
    }

    /// Every command this connection ran, in order.
    var ran: [String] { commands.value }
    /// What those commands got on standard input.
    private let inputs = Locked<[String]>([])
    var fedInput: [String] { inputs.value }

    func run(_ command: String, input: String?, timeout: Double) async throws -> CommandOutput {
        commands.withLock { $0.append(command) }
        if let input { inputs.withLock { $0.append(input) } }
        return try await respond(command)
    }

    func upload(localPath: String, remotePath: String, mode: Int32) async throws -> Bool {
        _ = try await run("upload \(localPath) -> \(remotePath)", timeout: 30)
        return true
    }
}

/// What a scripted host is like, and what it answers.
struct FakeHostScript: Sendable {
    /// The probe's answer (`HostProbe.command`'s output).
    var probe = "arch=x86_64\nkernel=6.1.0\nhome=/home/u\nuid=0\nglibc=glibc 2.36\nsudo=missing\ntool=ip\n"
    /// The agent's JSON for `run` (the client).
    var result = #"{"agent_version":"0.1.0","receiver_bytes_per_second":125000000,"latency_us":40}"#
    /// The route check's answer.
    var route = "eth0 1500 eth0\n"
    /// Called for the agent client run: lets a test lose the host, stall, fail or stop the run
    /// there; nil answers with `result`.
    var onClient: @Sendable (String) async throws -> CommandOutput? = { _ in nil }
    /// What this host's reachability prober finds for every port it is asked about.
    var reachVerdict = "open"
    /// Whether the agent server has ended when its status is asked (after a failed cell).
    var serverEnded: @Sendable () -> Bool = { false }

    /// Called first for every command: lets a test lose the host at any step; nil answers as usual.
    var onCommand: @Sendable (String) async throws -> CommandOutput? = { _ in nil }

    /// The pid a fake agent server reports.
    static let serverPid = 4242

    func answer(_ command: String) async throws -> CommandOutput {
        if let said = try await onCommand(command) { return said }
        if command == HostProbe.command { return CommandOutput(status: 0, stdout: probe, stderr: "") }
        if command.hasSuffix(" --version") { return CommandOutput(status: 0, stdout: "cloudbench-agent 0.1.0\n", stderr: "") }
        if command.contains("ip -o route get") {
            // The built-in overlays' routes leave through their own devices.
            let device = command.contains(RemoteLayout.vxlanNet) ? "\(RemoteLayout.vxlanDevice) 1450 eth0\n"
                : command.contains(RemoteLayout.tunnelNet) ? "\(RemoteLayout.tunDevice) 1400 eth0\n" : route
            return CommandOutput(status: 0, stdout: device, stderr: "")
        }
        if command.contains(" reach --server ") {
            // The reachability preflight's prober: one line per port asked about.
            let words = command.split(separator: " ").map(String.init)
            let lines = zip(words, words.dropFirst()).filter { $0.0 == "--tcp" || $0.0 == "--udp" }
                .map { "\($0.0.dropFirst(2)) \($0.1) \(reachVerdict)\n" }
            return CommandOutput(status: 0, stdout: lines.joined(), stderr: "")
        }
        if command.contains(" serve --listen "), command.contains("READY"),
           let r = command.range(of: #"--listen '?[0-9a-f.:\[\]]*:[0-9]+"#, options: .regularExpression) {
            // A server that starts: its READY line, with the port it was asked for.
            let port = command[r].split(separator: ":").last.map { $0.filter(\.isNumber) } ?? ""
            return CommandOutput(status: 0, stdout: "READY pid=\(Self.serverPid) port=\(port)\n", stderr: "")
        }
        if command.contains("/proc/\(Self.serverPid)/status") {  // serverStatus: is it still running?
            return CommandOutput(status: 0, stdout: "server log line\n" + (serverEnded() ? "ended\n" : ""), stderr: "")
        }
        if command.contains(" run --server ") {
            return try await onClient(command) ?? CommandOutput(status: 0, stdout: result, stderr: "")
        }
        return CommandOutput(status: 0, stdout: "", stderr: "")
    }
}

/// Connects to scripted hosts by address; counts connections and can refuse them.
final class FakeConnector: HostConnector, @unchecked Sendable {
    private let scripts: Locked<[String: FakeHostScript]>
    private let refused = Locked<Set<String>>([])
    private let opened = Locked<[FakeShell]>([])

    init(_ scripts: [String: FakeHostScript]) { self.scripts = Locked(scripts) }

    /// Scripts `address` (for the connections made from now on).
    func set(_ address: String, _ script: FakeHostScript) { scripts.withLock { $0[address] = script } }

    /// From now on, connecting to `address` fails as an unreachable host does.
    func refuse(_ address: String) { refused.withLock { _ = $0.insert(address) } }

    /// Scripts `host` to be lost at its first agent client run: that run ends as a lost
    /// connection does, and the host refuses connections from then on.
    func loseAtClientRun(_ host: Instance) {
        var dying = FakeHostScript()
        dying.onClient = { [weak self] _ in
            self?.refuse(host.address)
            throw RemoteError.unreachable(host: SSHTargets.label(host), reason: "connection lost")
        }
        set(host.address, dying)
    }

    /// Every connection made so far.
    var shells: [FakeShell] { opened.value }

    func connect(_ host: Instance, label: String) async throws -> RemoteShell {
        if refused.value.contains(host.address) { throw RemoteError.unreachable(host: label, reason: "connection refused") }
        let script = scripts.value[host.address] ?? FakeHostScript()
        let shell = FakeShell(label: label) { try await script.answer($0) }
        opened.withLock { $0.append(shell) }
        return shell
    }

    /// Every command sent to `label`, over every connection.
    func commands(to label: String) -> [String] {
        shells.filter { $0.label == label }.flatMap(\.ran)
    }
}

/// A small inventory of `pairs` pairs on distinct hosts (192.0.2.x), run briefly.
func fakeInventory(pairs: Int = 1, paths: [PathKind] = [.host], tests: [TestKind] = [.tcpBandwidth],
                   repetitions: Int = 2, sudo: Bool = false) -> Inventory {
    var ssh = SSHSettings.defaults
    ssh.sudo = sudo
    ssh.user = "u"
    let list = (0..<pairs).map { i in
        Pair(name: "p\(i)", provider: "azure", type: "A2", region: "r", placement: nil, price: nil, priceAsOf: nil,
             server: Instance(role: .server, address: "192.0.2.\(10 + 2 * i)", testIP: "10.0.\(i).4", overlays: [:], ssh: ssh),
             client: Instance(role: .client, address: "192.0.2.\(11 + 2 * i)", testIP: "10.0.\(i).5", overlays: [:], ssh: ssh),
             paths: paths, tests: tests, repetitions: repetitions)
    }
    var run = RunSettings()
    run.duration = DurationValue(milliseconds: 1000)
    run.warmup = DurationValue(milliseconds: 0)
    return Inventory(file: "fake.yaml", name: "fake", currency: "USD", ssh: ssh, run: run, pairs: list, agentBinaries: [:])
}

/// A catalog with no providers: fake runs price nothing.
let emptyCatalog = Catalog(providerNames: [:], types: [:], exchangeRates: ExchangeRates(tables: []))
