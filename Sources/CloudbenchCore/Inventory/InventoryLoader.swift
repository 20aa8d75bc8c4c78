import AgentContract
import Foundation
import Yams

/// Reads an inventory file and checks everything that can be checked without the network.
///
/// Every problem is collected with its position, so one `cloudbench validate` run lists them
/// all; `load` throws `InputErrors` when there is any.
public struct InventoryLoader {
    public let catalog: Catalog
    /// Whether key files must exist on this machine (off in tests that only look at syntax).
    public var checkFiles = true

    public init(catalog: Catalog) { self.catalog = catalog }

    public func load(path: String) throws -> Inventory {
        let doc = try YAMLDocument.load(path: path)
        return try parse(doc)
    }

    public func parse(_ doc: YAMLDocument) throws -> Inventory {
        let sink = DiagnosticSink()
        let warnings = DiagnosticSink()
        var inventory = read(doc, sink, warnings)
        guard sink.isEmpty, inventory != nil else {
            // `read` names every problem; the fallback only keeps a missed one from trapping.
            throw InputErrors(sink.isEmpty ? [Diagnostic(doc.location(doc.root), "the inventory cannot be read")] : sink.diagnostics)
        }
        inventory?.warnings = warnings.diagnostics.sorted { $0.location < $1.location }
        return inventory!
    }

    private static let runKeys = ["tests", "duration", "warmup", "repetitions", "paths", "streams", "message_size",
                                  "udp_rate", "udp_pps_rate", "udp_pps_payload", "directions", "http_size", "http_count", "agent_port", "sustained_after"]
    private static let sshKeysElsewhere = ["user", "port", "identity", "identity_passphrase_env", "known_hosts", "sudo",
                                           "jump", "connect_timeout", "keepalive"].reduce(into: [String: String]()) { $0[$1] = "under 'ssh:'" }

    private func read(_ doc: YAMLDocument, _ sink: DiagnosticSink, _ warnings: DiagnosticSink) -> Inventory? {
        guard let root = doc.root else {
            sink.add(doc.location(nil), "the inventory is empty; start from inventories/example.yaml")
            return nil
        }
        guard let top = MappingReader(root, in: doc, context: "the inventory", sink: sink) else { return nil }
        defer { top.finish(elsewhere: Self.runKeys.reduce(into: Self.sshKeysElsewhere) { $0[$1] = "under 'run:'" }) }

        let header = SchemaHeader.read(top, document: "inventory", nameUse: "it names result files",
                                       currencies: catalog.exchangeRates.currencies, sink: sink)
        let baseDir = (doc.file as NSString).deletingLastPathComponent
        var ssh = SSHSettings.defaults
        if let node = top.value("ssh"), let r = MappingReader(node, in: doc, context: "'ssh'", sink: sink) {
            ssh = readSSH(r, base: ssh, baseDir: baseDir, sink: sink)
            r.finish()
        }
        var run = RunSettings()
        var runSearchAt: SourceLocation?
        if let node = top.value("run"), let r = MappingReader(node, in: doc, context: "'run'", sink: sink) {
            run = readRun(r, sink: sink)
            if run.udpRateSearch { runSearchAt = r.keyLocation("udp_rate") }
            r.finish()
        }
        var agents: [String: String] = [:]
        if let node = top.value("agent"), let r = MappingReader(node, in: doc, context: "'agent'", sink: sink) {
            for arch in AgentPlatform.architectures {
                if let (p, loc) = r.string(arch) {
                    let full = Self.expand(p, relativeTo: baseDir)
                    if checkFiles && !FileManager.default.fileExists(atPath: full) {
                        sink.add(loc, "agent binary '\(p)' does not exist; build it for \(arch) or fix the path")
                    }
                    agents[arch] = full
                }
            }
            r.finish()
        }

        var pairs: [Pair] = []
        var pairNames: [String: SourceLocation] = [:]
        if let node = top.value("pairs") {
            guard let list = node.sequence else {
                sink.add(doc.location(node), "'pairs' must be a list of pairs, each starting with '- name:'")
                return nil
            }
            if list.isEmpty { sink.add(doc.location(node), "'pairs' is empty; list at least one pair of instances") }
            for item in list {
                guard let r = MappingReader(item, in: doc, context: "a pair", sink: sink) else { continue }
                if let pair = readPair(r, ssh: ssh, run: run, baseDir: baseDir, sink: sink, warnings: warnings) {
                    if let first = pairNames[pair.name] {
                        sink.add(r.keyLocation("name"), "pair name '\(pair.name)' is used twice (first at line \(first.line)); pair names must be unique")
                    } else {
                        pairNames[pair.name] = r.keyLocation("name")
                        pairs.append(pair)
                    }
                }
                r.finish()
            }
        } else if top.value("groups") == nil {
            sink.add(doc.location(root), "the inventory has no 'pairs'; list at least one pair of instances (or a group under 'groups')")
        }
        let groups = readGroups(top, ssh: ssh, run: run, baseDir: baseDir, pairNames: pairNames, sink: sink)
        if let loc = runSearchAt, !pairs.isEmpty, !pairs.contains(where: { $0.udpRateSearch && $0.tests.contains(where: \.isUDP) }) {
            sink.add(loc, "'udp_rate: search' searches the rate of udp_bw and udp_pps, and no pair runs either; add one to 'tests' or give a rate")
        }
        var inventory = Inventory(file: doc.file, name: header.name, currency: header.currency, ssh: ssh, run: run, pairs: pairs, agentBinaries: agents)
        inventory.groups = groups
        return inventory
    }

    // MARK: - ssh

    private func readSSH(_ r: MappingReader, base: SSHSettings, baseDir: String, sink: DiagnosticSink) -> SSHSettings {
        var s = base
        if let (u, loc) = r.string("user") {
            if u.contains(where: { $0 == " " || $0 == "@" || $0 == ":" }) { sink.add(loc, "'user' must be a plain user name, not '\(u)'") }
            else { s.user = u }
        }
        if let (p, loc) = r.string("port") {
            if let n = Int(p), (1...65535).contains(n) { s.port = n } else { sink.add(loc, "bad port '\(p)'; use a number from 1 to 65535") }
        }
        if let (i, loc) = r.string("identity") {
            let full = Self.expand(i, relativeTo: baseDir)
            if checkFiles && !FileManager.default.fileExists(atPath: full) {
                sink.add(loc, "key file '\(i)' does not exist; fix the path, or remove 'identity' to use ssh-agent")
            }
            s.identity = full
        }
        if let (e, loc) = r.string("identity_passphrase_env") {
            if e.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) && !(e.first?.isNumber ?? true) { s.identityPassphraseEnv = e }
            else { sink.add(loc, "'identity_passphrase_env' names an environment variable (e.g. CLOUDBENCH_KEY_PASSPHRASE), not '\(e)'") }
        }
        if r.value("passphrase") != nil || r.value("password") != nil {
            let key = r.value("passphrase") != nil ? "passphrase" : "password"
            sink.add(r.keyLocation(key), "never write a secret into the inventory; put it in an environment variable and name that variable with 'identity_passphrase_env'")
        }
        if let (k, _) = r.string("known_hosts") { s.knownHosts = Self.expand(k, relativeTo: baseDir) }
        if let b = r.bool("sudo") { s.sudo = b }
        if let (j, loc) = r.string("jump") {
            let hostPart = j.split(separator: "@", maxSplits: 1).last.map(String.init) ?? j
            if case .ok = NetworkAddress.parse(hostPart) { s.jump = j } else {
                sink.add(loc, "bad jump host '\(j)'; write it as [user@]host[:port]")
            }
        }
        if let d = duration(r, "connect_timeout", in: Limits.connectTimeout, sink: sink) { s.connectTimeout = d }
        if let d = duration(r, "keepalive", in: Limits.keepalive, sink: sink) { s.keepalive = d }
        return s
    }

    /// A duration within `range` (seconds), or nil with the problem recorded: the message
    /// names the key, the range and what was written.
    private func duration(_ r: MappingReader, _ key: String, in range: ClosedRange<Double>, sink: DiagnosticSink,
                          why: String = "", example: String = "500ms, 10s or 2m") -> DurationValue? {
        guard let (t, loc) = r.string(key) else { return nil }
        guard let d = DurationValue.parse(t) else {
            sink.add(loc, "bad duration '\(t)' for '\(key)'; write it like \(example)")
            return nil
        }
        guard range.contains(d.seconds) else {
            sink.add(loc, "'\(key)' must be from \(Limits.describe(range)) seconds\(why), not '\(t)'")
            return nil
        }
        return d
    }

    /// Ranges of the inventory's numbers. Those the agent reads are `AgentLimits` (or inside
    /// them), so what validates is never refused by the agent later.
    public enum Limits {
        public static let duration = AgentLimits.duration
        public static let warmup = AgentLimits.warmup
        public static let streams = AgentLimits.streams
        public static let messageSize = 1...AgentLimits.messageSize.upperBound
        public static let udpRate = Int(AgentLimits.rate.lowerBound)...Int(AgentLimits.rate.upperBound)
        public static let udpPacketRate = Int(AgentLimits.packetRate.lowerBound)...Int(AgentLimits.packetRate.upperBound)
        public static let udpPacketPayload = AgentLimits.udpMessageSize
        public static let httpSize = 1...AgentLimits.size.upperBound
        public static let httpCount = 1...Swift.min(1_000_000, AgentLimits.count.upperBound)
        public static let repetitions = 1...1000
        /// SSH: TCP connect, handshake and authentication each get this long.
        public static let connectTimeout: ClosedRange<Double> = 0.1...600
        /// SSH keepalive interval; a silent host is given up after three.
        public static let keepalive: ClosedRange<Double> = 1...3600

        /// `0.001 to 3600`, as messages write a range.
        public static func describe(_ range: ClosedRange<Double>) -> String { AgentLimits.describe(range) }
    }

    // MARK: - run

    /// The `run:` section, shared by inventories and fleets (`FleetLoader`).
    func readRun(_ r: MappingReader, sink: DiagnosticSink) -> RunSettings {
        var run = RunSettings()
        if let tests = r.stringList("tests") {
            if tests.isEmpty { sink.add(r.keyLocation("tests"), "'tests' is empty; list at least one of tcp_bw, tcp_lat, tcp_crr, udp_bw, udp_pps, http") }
            run.tests = testKinds(tests, sink: sink)
        }
        let agent = " (what the agent allows)"
        if let d = duration(r, "duration", in: Limits.duration, sink: sink, why: agent) { run.duration = d }
        if let d = duration(r, "warmup", in: Limits.warmup, sink: sink, why: agent, example: "500ms, 2s or 0s") { run.warmup = d }
        if let n = r.int("repetitions", range: Limits.repetitions) { run.repetitions = n }
        if let paths = r.stringList("paths") {
            if paths.isEmpty { sink.add(r.keyLocation("paths"), "'paths' is empty; list at least 'host'") }
            run.paths = pathKinds(paths, sink: sink)
        }
        if let list = streamCounts(r, sink: sink) { run.streams = list }
        if let list = directions(r, sink: sink) { run.directions = list }
        if let n = r.int("message_size", range: Limits.messageSize) { run.messageSize = n }
        switch udpRate(r, sink: sink) {
        case .search?: run.udpRateSearch = true
        case .fixed(let n)?: run.udpRate = n
        case nil: break
        }
        if let n = r.int("udp_pps_rate", range: Limits.udpPacketRate) { run.udpPacketRate = n }
        if let n = r.int("udp_pps_payload", range: Limits.udpPacketPayload) { run.udpPacketPayload = n }
        if let n = r.int("http_size", range: Limits.httpSize) { run.httpSize = n }
        if let n = r.int("http_count", range: Limits.httpCount) { run.httpCount = n }
        if let n = r.int("agent_port", range: 1...65535) { run.agentPort = n }
        if let (t, loc) = r.string("sustained_after") {
            if let d = DurationValue.parse(t), SustainedRuns.allowedAfter.contains(d.milliseconds) { run.sustainedAfter = d } else {
                sink.add(loc, "'sustained_after' must be a duration from 5s to 1h, like 5m, not '\(t)'")
            }
        }
        return run
    }

    /// `streams: 4` or `streams: [1, 4, 8]`: each count from 1 to 128, none twice; nil when absent or wrong.
    private func streamCounts(_ r: MappingReader, sink: DiagnosticSink) -> [Int]? {
        guard let items = r.stringList("streams") else { return nil }
        if items.isEmpty { sink.add(r.keyLocation("streams"), "'streams' is empty; give a number of TCP streams or a list like [1, 4, 8]"); return nil }
        let before = sink.diagnostics.count
        var out: [Int] = []
        for (text, loc) in items {
            guard let n = Int(text), Limits.streams.contains(n) else {
                sink.add(loc, "'streams' must be a whole number from \(Limits.streams.lowerBound) to \(Limits.streams.upperBound), not '\(text)'")
                continue
            }
            if out.contains(n) { sink.add(loc, "stream count \(n) is listed twice") } else { out.append(n) }
        }
        return sink.diagnostics.count == before ? out : nil
    }

    /// `directions: [client_to_server, server_to_client, bidirectional]`; nil when absent or wrong.
    private func directions(_ r: MappingReader, sink: DiagnosticSink) -> [Direction]? {
        guard let items = r.stringList("directions") else { return nil }
        let names = Direction.allCases.map(\.rawValue)
        if items.isEmpty { sink.add(r.keyLocation("directions"), "'directions' is empty; list at least one of \(names.joined(separator: ", "))"); return nil }
        let before = sink.diagnostics.count
        var out: [Direction] = []
        for (text, loc) in items {
            guard let d = Direction(rawValue: text) else {
                sink.add(loc, "unknown direction '\(text)'" + Suggestion.hint(for: text, in: names,
                    otherwise: "directions are \(names.joined(separator: ", "))"))
                continue
            }
            if out.contains(d) { sink.add(loc, "direction '\(text)' is listed twice") } else { out.append(d) }
        }
        return sink.diagnostics.count == before ? out : nil
    }

    enum UDPRate { case fixed(Int), search }

    /// `udp_rate: 50000000` (bytes per second) or `udp_rate: search`.
    private func udpRate(_ r: MappingReader, sink: DiagnosticSink) -> UDPRate? {
        guard let (text, loc) = r.string("udp_rate") else { return nil }
        if text == "search" { return .search }
        guard let n = Int(text), Limits.udpRate.contains(n) else {
            sink.add(loc, "'udp_rate' must be a whole number from \(Limits.udpRate.lowerBound) to \(Limits.udpRate.upperBound) "
                     + "(bytes per second) or 'search', not '\(text)'")
            return nil
        }
        return .fixed(n)
    }

    private func testKinds(_ items: [(String, SourceLocation)], sink: DiagnosticSink) -> [TestKind] {
        var out: [TestKind] = []
        for (t, loc) in items {
            guard let k = TestKind(rawValue: t) else {
                sink.add(loc, "unknown test '\(t)'" + Suggestion.hint(for: t, in: TestKind.allCases.map(\.rawValue),
                    otherwise: "tests are tcp_bw, tcp_lat, tcp_crr, udp_bw, udp_pps and http"))
                continue
            }
            if out.contains(k) { sink.add(loc, "test '\(t)' is listed twice") } else { out.append(k) }
        }
        return out
    }

    private func pathKinds(_ items: [(String, SourceLocation)], sink: DiagnosticSink) -> [PathKind] {
        var out: [PathKind] = []
        for (p, loc) in items {
            guard Self.isSafeName(p) else {
                sink.add(loc, "bad path name '\(p)'; use host, vxlan, udp, or your overlay's name (letters, digits, '-', '_')")
                continue
            }
            let k = PathKind(name: p)
            if out.contains(k) { sink.add(loc, "path '\(p)' is listed twice") } else { out.append(k) }
        }
        return out
    }

    // MARK: - pairs

    private func readPair(_ r: MappingReader, ssh: SSHSettings, run: RunSettings, baseDir: String, sink: DiagnosticSink,
                          warnings: DiagnosticSink) -> Pair? {
        let before = sink.diagnostics.count
        let name = r.string("name", required: true)
        if let (n, loc) = name, !Self.isSafeName(n) {
            sink.add(loc, "pair name '\(n)' may use letters, digits, '.', '_' and '-' only")
        }
        let instanceType = InstanceTypeReference.read(r, catalog: catalog, sink: sink)
        let (provider, type) = (instanceType.provider, instanceType.type)
        let region = r.string("region")?.0 ?? ""
        var written: (Placement, SourceLocation)?
        if let (p, loc) = r.string("placement") {
            if let known = Placement(name: p) {
                written = (known, loc)
                if Placement(rawValue: p) == nil {
                    warnings.add(loc, "placement '\(p)' is an old name; write '\(known.rawValue)'")
                }
            } else {
                sink.add(loc, "unknown placement '\(p)'" + Suggestion.hint(
                    for: p, in: Placement.allCases.map(\.rawValue) + Placement.aliases.keys,
                    otherwise: "placements are \(Placement.allCases.map(\.rawValue).joined(separator: ", "))"))
            }
        }
        var price: Money?
        if let (p, loc) = r.string("price") {
            price = parsePrice(p, at: loc, sink: sink)
        }
        var priceAsOf: String?
        if let (d, loc) = r.string("price_as_of") {
            if Self.isDate(d) { priceAsOf = d } else { sink.add(loc, "bad date '\(d)' for 'price_as_of'; write it as YYYY-MM-DD") }
        }
        var paths = run.paths
        if let list = r.stringList("paths") {
            if list.isEmpty { sink.add(r.keyLocation("paths"), "'paths' is empty; list at least 'host', or leave it out to use run.paths") }
            paths = pathKinds(list, sink: sink)
        }
        var tests = run.tests
        if let list = r.stringList("tests") {
            if list.isEmpty { sink.add(r.keyLocation("tests"), "'tests' is empty; list at least one test, or leave it out to use run.tests") }
            tests = testKinds(list, sink: sink)
        }
        let repetitions = r.int("repetitions", range: Limits.repetitions) ?? run.repetitions
        let directions = self.directions(r, sink: sink) ?? run.directions
        let streams = streamCounts(r, sink: sink) ?? run.streams
        var udpRateSearch = run.udpRateSearch
        switch udpRate(r, sink: sink) {
        case .search?:
            udpRateSearch = true
            if !tests.contains(where: \.isUDP) {
                sink.add(r.keyLocation("udp_rate"), "'udp_rate: search' searches the rate of udp_bw and udp_pps, and this pair runs neither; add one to the pair's 'tests'")
            }
        case .fixed?:
            sink.add(r.keyLocation("udp_rate"), "a pair may only say 'udp_rate: search'; a fixed rate is set for all pairs under 'run:'")
        case nil: break
        }

        var hosts: [Instance.Role: Instance] = [:]
        var hostNodes: [Instance.Role: MappingReader] = [:]
        for role in [Instance.Role.server, .client] {
            guard let node = r.value(role.rawValue) else {
                sink.add(r.keyLocation("name"), "pair '\(name?.0 ?? "?")' has no '\(role.rawValue)'; give its address")
                continue
            }
            guard let hr = MappingReader(node, in: r.doc, context: "the \(role.rawValue) of pair '\(name?.0 ?? "?")'", sink: sink) else { continue }
            hostNodes[role] = hr
            if let h = readHost(hr, role: role, ssh: ssh, baseDir: baseDir, sink: sink) { hosts[role] = h }
            hr.finish()
        }
        if let s = hosts[.server], let c = hosts[.client] {
            if s.endpoint == c.endpoint {
                sink.add(hostNodes[.client]!.keyLocation("address"),
                         "the client is the same host as the server (\(s.endpoint)); a pair needs two instances")
            } else if s.testIP == c.testIP {
                sink.add(hostNodes[.client]!.keyLocation("test_ip"),
                         "the client's test_ip \(c.testIP) is the server's too; each instance needs its own")
            }
        }
        // Each external overlay path needs an address on both hosts.
        for path in paths {
            guard case .external(let overlay) = path else { continue }
            for role in [Instance.Role.server, .client] {
                guard let h = hosts[role], h.overlays[overlay] == nil, let hr = hostNodes[role] else { continue }
                let known = Array(h.overlays.keys)
                sink.add(hr.keyLocation("overlays"),
                         "path '\(overlay)' needs the \(role.rawValue)'s address on that overlay; add 'overlays: { \(overlay): ADDRESS }' to the \(role.rawValue)"
                         + Suggestion.hint(for: overlay, in: known))
            }
        }
        // Both zones known: they say the placement, and a written one must agree.
        var placement = written?.0
        if let sz = hosts[.server]?.zone, let cz = hosts[.client]?.zone {
            let derived = Placement.derived(serverZone: sz, clientZone: cz)
            if let (p, loc) = written {
                if !p.fits(serverZone: sz, clientZone: cz) {
                    sink.add(loc, "placement '\(p.rawValue)' contradicts the zones: the server is in \(sz), the client in \(cz) "
                             + "(\(derived.rawValue)); fix the zones or the placement, or leave 'placement' out")
                }
            } else {
                placement = derived
            }
        }
        guard sink.diagnostics.count == before, let name, let s = hosts[.server], let c = hosts[.client] else { return nil }
        return Pair(name: name.0, provider: provider, type: type, region: region, placement: placement?.rawValue, price: price, priceAsOf: priceAsOf,
                    server: s, client: c, paths: paths, tests: tests, repetitions: repetitions,
                    directions: directions, streams: streams, udpRateSearch: udpRateSearch)
    }

    func readHost(_ r: MappingReader, role: Instance.Role, ssh: SSHSettings, baseDir: String, sink: DiagnosticSink) -> Instance? {
        let before = sink.diagnostics.count
        var settings = readSSH(r, base: ssh, baseDir: baseDir, sink: sink)
        let address = r.string("address", required: true)
        let testIPText = r.string("test_ip")
        var zone: String?
        if let (z, loc) = r.string("zone") {
            if Self.isSafeName(z) { zone = z } else { sink.add(loc, "bad zone '\(z)'; give the provider's zone name, e.g. westeurope-1 or us-east-1a") }
        }
        var overlays: [String: String] = [:]
        var overlayNamespaces: [String: OverlayNamespace] = [:]
        if let node = r.value("overlays") {
            if let mapping = node.mapping {
                for (k, v) in mapping {
                    guard let overlay = k.string else { continue }
                    var value = v
                    if v.mapping != nil {
                        // `{ address: IP, netns: "KIND:NAME" }`: the address lives in a namespace of the host.
                        guard let (addressNode, netns) = OverlayNamespaceReader.read(v, doc: r.doc, overlay: overlay, sink: sink) else { continue }
                        value = addressNode
                        if let netns { overlayNamespaces[overlay] = netns }
                    }
                    guard let ip = value.string else { continue }
                    if PathKind.builtIn.contains(where: { $0.name == overlay }) {
                        sink.add(r.doc.location(k), "'\(overlay)' is a built-in path, not an external overlay; cloudbench sets it up itself")
                    } else if !NetworkAddress.isIP(ip) {
                        sink.add(r.doc.location(value), "bad address '\(ip)' on overlay '\(overlay)'; give this host's IP address on that overlay")
                    } else { overlays[overlay] = ip }
                }
            } else {
                sink.add(r.doc.location(node), "'overlays' maps overlay names to this host's address, e.g. { weave: 10.32.0.1 }")
            }
        }
        guard let (addressText, loc) = address else { return nil }
        var host = addressText
        switch NetworkAddress.parse(addressText) {
        case .ok(let h, let p):
            host = h
            if let p { settings.port = p }
        case .badHost(let h):
            sink.add(loc, "bad address '\(h)'; give an IP address or a host name, optionally with :port")
        case .badPort(let p):
            sink.add(loc, "bad port '\(p)' in address; use a number from 1 to 65535")
        }
        var testIP = host
        if let (t, tloc) = testIPText {
            if NetworkAddress.isIP(t) { testIP = t } else {
                sink.add(tloc, "bad test_ip '\(t)'; give the IP address that carries test traffic")
            }
        } else if !NetworkAddress.isIP(host) && sink.diagnostics.count == before {
            sink.add(loc, "address '\(host)' is a name, so give 'test_ip' too: the IP address that carries test traffic")
        }
        // A host with a problem is not built, so checks that need it (overlay paths) stay quiet.
        guard sink.diagnostics.count == before else { return nil }
        var instance = Instance(role: role, address: host, testIP: testIP, overlays: overlays, zone: zone, ssh: settings)
        instance.overlayNamespaces = overlayNamespaces
        return instance
    }

    /// Parses `0.1207 EUR/h` (also `/hour`).
    func parsePrice(_ text: String, at loc: SourceLocation, sink: DiagnosticSink) -> Money? {
        let parts = text.split(separator: " ").map(String.init)
        let usage = "write the price like '0.1207 EUR/h'"
        guard parts.count == 2, let amount = Money.decimal(parts[0]) else {
            sink.add(loc, "bad price '\(text)'; \(usage)")
            return nil
        }
        guard amount >= 0 else { sink.add(loc, "a price cannot be negative"); return nil }
        let unit = parts[1].split(separator: "/", maxSplits: 1).map(String.init)
        guard unit.count == 2, ["h", "hour", "hr"].contains(unit[1]) else {
            sink.add(loc, "bad price '\(text)'; prices are per hour: \(usage)")
            return nil
        }
        guard catalog.exchangeRates.currencies.contains(unit[0]) else {
            sink.add(loc, "unknown currency '\(unit[0])' in price" + Suggestion.hint(for: unit[0], in: catalog.exchangeRates.currencies,
                otherwise: "add its rate to providers/fx.yaml"))
            return nil
        }
        return Money(amount, unit[0])
    }

    static func isDate(_ s: String) -> Bool {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyy-MM-dd"
        return s.count == 10 && f.date(from: s) != nil
    }

    public static func isSafeName(_ s: String) -> Bool {
        !s.isEmpty && s.allSatisfy { ($0.isASCII && ($0.isLetter || $0.isNumber)) || $0 == "-" || $0 == "_" || $0 == "." }
    }

    /// `~/x` → home; a relative path is taken relative to the inventory's folder.
    static func expand(_ path: String, relativeTo base: String) -> String {
        if path.hasPrefix("~/") {
            let home = ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory()
            return home + path.dropFirst(1)
        }
        if path.hasPrefix("/") || base.isEmpty { return path }
        return (base as NSString).appendingPathComponent(path)
    }
}
