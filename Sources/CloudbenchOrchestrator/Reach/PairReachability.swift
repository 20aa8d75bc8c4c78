import CloudbenchCore
import CloudbenchSSH
import Foundation

/// What the reachability preflight found for one pair: the ports found closed, each with the rule
/// that opens it, and the ports it could not check.
public struct ReachReport: Sendable, Equatable {
    public struct Closed: Sendable, Equatable {
        public var probe: ReachProbe
        /// `timeout`, `refused` or `unreachable`, as the prober saw it.
        public var verdict: String
        /// One sentence: port, protocol, direction, and the rule to open.
        public var message: String
    }
    /// The pair's name, or the group's (`isGroup`: every link of the group in one report).
    public var pair: String
    public var isGroup = false
    public var checked: [ReachProbe] = []
    public var closed: [Closed] = []
    /// Ports the answering host could not bind (something of its own listens there), with why.
    public var notChecked: [String] = []

    public var ok: Bool { closed.isEmpty }
    /// The reason every cell of the pair fails with, when one port is closed.
    public var failure: String? {
        closed.isEmpty ? nil : "reachability preflight: " + closed.map(\.message).joined(separator: "; ")
    }
}

/// The reachability preflight of one pair: an answerer on one host, the prober on the other, for
/// each direction the pair's paths need (`ReachProbe.needed`), every port within `timeout` seconds.
///
/// Runs after the agent is deployed and before the pair's first cell; a closed port fails the pair
/// alone, at once, instead of each cell waiting out a connect timeout.
public struct PairReachability: Sendable {
    public var pair: Pair
    public var agentPort: Int
    public var timeout: Double
    public var tag: String
    /// The ports to check; nil: what the pair's paths need (`ReachProbe.needed`). A group's links
    /// give their own (`GroupLinks`).
    public var probes: [ReachProbe]?

    public init(pair: Pair, agentPort: Int, timeout: Double = 5, tag: String, probes: [ReachProbe]? = nil) {
        self.pair = pair
        self.agentPort = agentPort
        self.timeout = timeout
        self.tag = tag
        self.probes = probes
    }

    /// The answerer's command: started in the background with a deadline, waited for until it
    /// says `ready`; prints what it bound.
    func startAnswer(agent: String, runDirectory: String, address: String, probes: [ReachProbe]) -> String {
        let log = "\(runDirectory)/reach-\(tag).log", pid = "\(runDirectory)/reach-\(tag).pid"
        let deadline = Int(timeout * Double(probes.count) + 30)
        return "mkdir -p \(runDirectory) || exit 1; nohup \(shellQuote(agent)) reach-answer --listen \(shellQuote(address)) "
            + Self.portFlags(probes) + " --deadline \(deadline) > \(log) 2>&1 < /dev/null & echo $! > \(pid); "
            + "for i in $(seq 1 200); do grep -q '^ready' \(log) 2>/dev/null && { cat \(log); exit 0; }; "
            + "\(shellProcessRuns("$(cat \(pid))")) || break; sleep 0.05; done; cat \(log) >&2; exit 1"
    }

    func stopAnswer(runDirectory: String) -> String {
        let log = "\(runDirectory)/reach-\(tag).log", pid = "\(runDirectory)/reach-\(tag).pid"
        // Waits for it to end: the agent server binds the same port right after.
        return "p=$(cat \(pid) 2>/dev/null); if [ -n \"$p\" ] && grep -q cloudbench-agent /proc/$p/cmdline 2>/dev/null; then kill $p; "
            + "for i in $(seq 1 60); do \(shellProcessRuns("$p")) || break; sleep 0.05; done; fi; "
            + "rm -f \(pid) \(log); true"
    }

    func probeCommand(agent: String, address: String, probes: [ReachProbe]) -> String {
        "\(shellQuote(agent)) reach --server \(shellQuote(address)) " + Self.portFlags(probes) + " --timeout \(timeout)"
    }

    static func portFlags(_ probes: [ReachProbe]) -> String {
        probes.map { "--\($0.proto == .tcp ? "tcp" : "udp") \($0.port)" }.joined(separator: " ")
    }

    /// Reads `PROTO PORT WORD` lines (the prober's verdicts, or the answerer's `busy PROTO PORT: why`).
    static func lines(_ text: String, first: String? = nil) -> [(proto: String, port: Int, rest: String)] {
        text.split(separator: "\n").prefix(64).compactMap { line in
            var words = line.split(separator: " ", maxSplits: 3).map(String.init)
            if let first { guard words.first == first else { return nil }; words.removeFirst() }
            guard words.count >= 3, let port = Int(words[1].trimmingCharacters(in: [":"])), (1...65535).contains(port) else { return nil }
            return (words[0], port, words[2...].joined(separator: " "))
        }
    }

    /// Judges one direction from what the answerer bound and what the prober saw.
    func judge(_ probes: [ReachProbe], answered: String, probed: String, report: inout ReachReport) {
        let busy = Self.lines(answered, first: "busy")
        let seen = Self.lines(probed)
        for p in probes {
            let proto = p.proto == .tcp ? "tcp" : "udp"
            let (to, from) = p.to == .server ? (pair.server, pair.client) : (pair.client, pair.server)
            let toName = "\(p.to.rawValue) \(to.testIP)", fromName = "\(p.to == .server ? "client" : "server") \(from.testIP)"
            if let b = busy.first(where: { $0.proto == proto && $0.port == p.port }) {
                report.notChecked.append("\(p.proto.rawValue) \(p.port) on \(toName): in use there, not checked (\(b.rest))")
                continue
            }
            report.checked.append(p)
            let verdict = seen.first(where: { $0.proto == proto && $0.port == p.port })?.rest ?? "unreachable"
            guard verdict != "open" else { continue }
            let secs = timeout == timeout.rounded() ? "\(Int(timeout))" : "\(timeout)"
            let how = verdict == "timeout" ? "no answer within \(secs) s" : verdict
            let rule = FirewallRule(proto: p.proto, port: p.port, source: from.testIP)
            report.closed.append(.init(probe: p, verdict: verdict, message:
                "\(p.proto.rawValue) \(p.port) (\(p.purpose)) from \(fromName) to \(toName): \(how); open inbound \(p.proto.rawValue) \(p.port) on the \(p.to.rawValue) — \(rule.advice(for: pair.provider))"))
        }
    }

    /// Runs both directions the pair needs; a failing command is a closed port's reason, never a throw.
    public func check(server: RemoteHost, client: RemoteHost) async -> ReachReport {
        var report = ReachReport(pair: pair.name)
        let needed = probes ?? ReachProbe.needed(by: pair, agentPort: agentPort)
        for role in [Instance.Role.server, .client] {
            let probes = needed.filter { $0.to == role }
            guard !probes.isEmpty else { continue }
            let (answerer, prober) = role == .server ? (server, client) : (client, server)
            let address = role == .server ? pair.server.testIP : pair.client.testIP
            let agentOf: (RemoteHost) -> String = { $0.layout.agentPath(sha256: $0.agentSHA) }
            let run = answerer.layout.runDirectory
            var answered = "", probed = ""
            do {
                answered = try await answerer.check(startAnswer(agent: agentOf(answerer), runDirectory: run, address: address, probes: probes),
                                                    what: "start the reachability answerer", timeout: 20).stdout
                probed = try await prober.check(probeCommand(agent: agentOf(prober), address: address, probes: probes),
                                                what: "probe \(address)", timeout: timeout * Double(probes.count) + 20).stdout
            } catch {
                probed = ""
                _ = try? await answerer.run(stopAnswer(runDirectory: run), timeout: 10)
                for p in probes {
                    report.closed.append(.init(probe: p, verdict: "error", message: "\(p.proto.rawValue) \(p.port) (\(p.purpose)) to the \(p.to.rawValue) could not be checked: \(error)"))
                }
                continue
            }
            _ = try? await answerer.run(stopAnswer(runDirectory: run), timeout: 10)
            judge(probes, answered: answered, probed: probed, report: &report)
        }
        return report
    }
}

extension PairReachability {
    /// One check of `checkAll`: a pair's, or one link of a group's (`owner` is the group).
    struct Check: Sendable {
        var owner: String
        var isGroup: Bool
        var pair: Pair
        var probes: [ReachProbe]?
    }

    /// Checks every pair whose two hosts are connected, and every link of each group whose hosts
    /// are; checks that share no host run side by side, and a host is in one check at a time (its
    /// answerer binds the ports). Reports come back by pair or group name, a group's links as one.
    public static func checkAll(_ inventory: Inventory, hosts: [String: RemoteHost], timeout: Double) async -> [ReachReport] {
        await run(checks(inventory, hosts: hosts), inventory: inventory, hosts: hosts, timeout: timeout)
    }

    static func checks(_ inventory: Inventory, hosts: [String: RemoteHost]) -> [Check] {
        let pairs = inventory.pairs.filter { hosts[$0.server.endpoint] != nil && hosts[$0.client.endpoint] != nil }
            .map { Check(owner: $0.name, isGroup: false, pair: $0, probes: nil) }
        let groups = inventory.groups.filter { $0.hosts.allSatisfy { hosts[$0.endpoint] != nil } }.flatMap { g in
            GroupLinks.links(g, agentPort: inventory.run.agentPort).map { Check(owner: g.name, isGroup: true, pair: $0.pair, probes: $0.probes) }
        }
        return pairs + groups
    }

    static func run(_ all: [Check], inventory: Inventory, hosts: [String: RemoteHost], timeout: Double) async -> [ReachReport] {
        var waiting = all
        let found = ReachFailures()
        var round = 0
        while !waiting.isEmpty {
            round += 1
            var used: Set<String> = [], batch: [Check] = [], later: [Check] = []
            for c in waiting {
                if used.contains(c.pair.server.endpoint) || used.contains(c.pair.client.endpoint) { later.append(c); continue }
                used.formUnion([c.pair.server.endpoint, c.pair.client.endpoint])
                batch.append(c)
            }
            waiting = later
            await withTaskGroup(of: Void.self) { group in
                for (i, c) in batch.enumerated() {
                    guard let s = hosts[c.pair.server.endpoint], let h = hosts[c.pair.client.endpoint] else { continue }
                    let check = PairReachability(pair: c.pair, agentPort: inventory.run.agentPort, timeout: timeout,
                                                 tag: "\(getpid())-\(round)-\(i)", probes: c.probes)
                    group.addTask {
                        var report = await check.check(server: s, client: h)
                        report.pair = c.owner
                        report.isGroup = c.isGroup
                        await found.add(report)
                    }
                }
            }
        }
        // A group's links as one report, in the order first found.
        var merged: [ReachReport] = []
        for r in await found.reports {
            if let i = merged.firstIndex(where: { $0.isGroup == r.isGroup && $0.pair == r.pair }) {
                merged[i].checked += r.checked
                merged[i].closed += r.closed
                merged[i].notChecked += r.notChecked
            } else { merged.append(r) }
        }
        return merged.sorted { ($0.isGroup ? 1 : 0, $0.pair) < ($1.isGroup ? 1 : 0, $1.pair) }
    }

    /// `checkAll` for `compare`: what it could not check and what is closed said on `progress`;
    /// the failure of each pair or group with a closed port, by its name.
    public static func failures(_ inventory: Inventory, hosts: [String: RemoteHost], timeout: Double,
                                progress: ProgressSink) async -> [String: String] {
        var out: [String: String] = [:]
        for report in await run(checks(inventory, hosts: hosts), inventory: inventory, hosts: hosts, timeout: timeout) {
            let what = report.isGroup ? "group" : "pair"
            for n in report.notChecked { await progress.message("\(what) \(report.pair): \(n)") }
            if let why = report.failure {
                await progress.message("\(what) \(report.pair): not run: \(why)")
                out[report.pair] = why
            }
        }
        return out
    }
}

actor ReachFailures {
    var reports: [ReachReport] = []
    func add(_ r: ReachReport) { reports.append(r) }
}
