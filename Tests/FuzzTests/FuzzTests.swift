@testable import AgentKit
import AgentContract
@testable import CloudbenchCore
import CloudbenchLab
import CloudbenchReport
import Foundation
import Testing

/// 10,000 mutated inputs through every reader of outside input, in this process: inventories,
/// catalogs, price and exchange-rate files, lab profiles, result files (on to statistics and the
/// rendered report), the agent's request and result lines and its command line.
///
/// Zero crashes (a trap ends the test process: red), and every rejection says something. The run
/// is seeded and deterministic; `CLOUDBENCH_FUZZ_SEED=N` repeats another. The input being tried
/// is kept in a file named at the start, so after a crash it is the one that crashed.
@Suite("Fuzz")
struct FuzzTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    static let defaultSeed: UInt64 = 20_261_201

    /// Where each input is written before it is tried.
    final class Witness {
        let path = NSTemporaryDirectory() + "cloudbench-fuzz-input-\(getpid()).txt"
        var failures: [String] = []
        var count = 0
        func trying(_ kind: String, _ input: String) {
            count += 1
            FileManager.default.createFile(atPath: path, contents: Data("\(kind)\n\(input)".utf8))
        }
        /// A rejection or result that is wrong: kept with its input, printed at the end.
        func fail(_ kind: String, _ why: String, _ input: String) {
            failures.append("\(kind): \(why)\n--- input ---\n\(input.debugDescription.prefix(1000))")
        }
        func remove() { try? FileManager.default.removeItem(atPath: path) }
    }

    @Test("10,000 mutated inputs: no crash, every rejection a message")
    func fuzz() throws {
        let seed = ProcessInfo.processInfo.environment["CLOUDBENCH_FUZZ_SEED"].flatMap { UInt64($0) } ?? Self.defaultSeed
        let witness = Witness()
        defer { witness.remove() }
        print("fuzz: seed \(seed) (CLOUDBENCH_FUZZ_SEED=\(seed) repeats it); each input is written to \(witness.path) before it is tried")
        var m = Mutator(rng: SeededGenerator(seed: seed))
        let started = Date()

        let catalog = try Catalog.load(directory: "\(Self.root)/providers")
        var times: [String] = []
        func timed(_ name: String, _ body: () throws -> Void) rethrows {
            let t0 = Date()
            try body()
            times.append("\(name) \(String(format: "%.1f", Date().timeIntervalSince(t0))) s")
        }
        try timed("inventories") { try inventories(&m, catalog: catalog, witness, count: 2500) }
        try timed("fleets") { try fleets(&m, catalog: catalog, witness, count: 500) }
        try timed("catalogs") { try catalogFiles(&m, witness, count: 1500) }
        try timed("lab profiles") { try labProfiles(&m, witness, count: 500) }
        timed("results") { resultFiles(&m, catalog: catalog, witness, count: 2000) }
        try timed("imports") { try imports(&m, witness, count: 500) }
        timed("agent lines") {
            requestLines(&m, witness, count: 1000)
            resultLines(&m, witness, count: 1000)
            commandLines(&m, witness, count: 500)
        }

        let seconds = Date().timeIntervalSince(started)
        print("fuzz: \(witness.count) inputs in \(String(format: "%.1f", seconds)) s (\(times.joined(separator: ", "))), \(witness.failures.count) wrong")
        #expect(witness.count == 10_000)
        for f in witness.failures.prefix(5) { Issue.record("seed \(seed): \(f.prefix(1500))") }
        #expect(witness.failures.count == 0, "seed \(seed): \(witness.failures.count) inputs handled wrongly (the first 5 are above)")
    }

    // MARK: - YAML

    static func read(_ relative: String) throws -> String {
        try String(contentsOfFile: "\(root)/\(relative)", encoding: .utf8)
    }

    /// A rejection of a file named `file` must be `file:line:col: message` lines.
    static func checkDiagnostics(_ error: Error, file: String) -> String? {
        let lines: [String]
        switch error {
        case let e as InputErrors: lines = e.diagnostics.map(\.description)
        case let d as Diagnostic: lines = [d.description]
        case let e as FileError: lines = [e.description]
        default: return "an error that is not a diagnostic: \(type(of: error)) \(error)"
        }
        if lines.isEmpty { return "a rejection without a message" }
        for l in lines {
            let parts = l.split(separator: ":", maxSplits: 3, omittingEmptySubsequences: false)
            guard parts.count == 4, parts[0] == file, Int(parts[1]) != nil, Int(parts[2]) != nil,
                  parts[3].count > 2 else { return "not 'file:line:col: message': \(l.prefix(200))" }
        }
        return nil
    }

    func inventories(_ m: inout Mutator, catalog: Catalog, _ w: Witness, count: Int) throws {
        let bad = try FileManager.default.contentsOfDirectory(atPath: "\(Self.root)/Tests/CloudbenchCoreTests/Fixtures/inventories/bad")
            .filter { $0.hasSuffix(".yaml") }.sorted()
        let seeds = try [Self.read("Tests/CloudbenchCoreTests/Fixtures/inventories/good.yaml"), Self.read("inventories/example.yaml")]
            + bad.prefix(8).map { try Self.read("Tests/CloudbenchCoreTests/Fixtures/inventories/bad/\($0)") }
        var loader = InventoryLoader(catalog: catalog)
        loader.checkFiles = false
        for i in 0..<count {
            let text = m.mutate(seeds[i % seeds.count], others: seeds)
            w.trying("inventory", text)
            do {
                let inventory = try loader.parse(try YAMLDocument(file: "fuzz.yaml", text: text))
                // What validates must plan: the plan, its order and its time estimate.
                let plan = Plan(inventory: inventory, seed: 1)
                _ = TimeEstimate(plan: plan, run: inventory.run, parallel: 2)
                for pair in inventory.pairs {
                    if !InventoryLoader.Limits.duration.contains(inventory.run.duration.seconds)
                        || !(inventory.run.streams + pair.streams).allSatisfy(AgentLimits.streams.contains) || pair.repetitions < 1 {
                        w.fail("inventory", "validated a run the agent refuses", text)
                    }
                }
            } catch {
                if let why = Self.checkDiagnostics(error, file: "fuzz.yaml") { w.fail("inventory", why, text) }
            }
        }
    }

    /// Fleet files: what validates must be estimated (or refused for a missing price) without a crash.
    func fleets(_ m: inout Mutator, catalog: Catalog, _ w: Witness, count: Int) throws {
        let seeds = try ["fleets/aws-example.yaml", "fleets/azure-example.yaml", "fleets/digitalocean-example.yaml", "fleets/lab-small.yaml"]
            .map { try Self.read($0) }
        let prices = try ProvisionPrices.load(directory: "\(Self.root)/providers", provider: "aws", currencies: catalog.exchangeRates.currencies)
        let loader = FleetLoader(catalog: catalog)
        for i in 0..<count {
            let text = m.mutate(seeds[i % seeds.count], others: seeds)
            w.trying("fleet", text)
            do {
                let fleet = try loader.parse(try YAMLDocument(file: "fuzz.yaml", text: text))
                if fleet.pairCount > FleetLoader.maxPairs || fleet.entries.contains(where: { !FleetLoader.counts.contains($0.count) }) {
                    w.fail("fleet", "validated a fleet beyond its limits", text)
                }
                if fleet.provider == "aws" { _ = try? CostEstimate(fleet: fleet, catalog: catalog, prices: prices) }
            } catch {
                if let why = Self.checkDiagnostics(error, file: "fuzz.yaml") { w.fail("fleet", why, text) }
            }
        }
    }

    func catalogFiles(_ m: inout Mutator, _ w: Witness, count: Int) throws {
        let dir = NSTemporaryDirectory() + "cloudbench-fuzz-catalog-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let prices = """
        provider: aws
        generated_by: cloudbench prices refresh
        fetched_at: 2026-01-01T00:00:00Z
        prices:
          - { type: m5.large, amount: "0.096", currency: USD, region: us-east-1, source: "AWS Price List API", fetched_at: 2026-01-01T00:00:00Z }
        """
        let seeds = try [Self.read("providers/azure.yaml"), Self.read("providers/aws.yaml"), Self.read("providers/fx.yaml"), prices]
        let currencies: Set<String> = ["USD", "EUR", "GBP"]
        let path = "\(dir)/file.yaml"
        for i in 0..<count {
            let kind = i % seeds.count
            let text = m.mutate(seeds[kind], others: seeds)
            w.trying(["catalog", "catalog", "exchange rates", "prices"][kind], text)
            FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
            do {
                switch kind {
                case 0, 1: _ = try CatalogFile.parse(path: path, currencies: currencies)
                case 2:
                    let rates = try ExchangeRates.load(path: path)
                    _ = rates.convert(Money(Decimal(string: "0.1207")!, "EUR"), to: "USD", on: "2026-01-01")
                default: _ = try GeneratedPrices.parse(path: path)
                }
            } catch {
                if let why = Self.checkDiagnostics(error, file: path) { w.fail("catalog", why, text) }
            }
        }
    }

    func labProfiles(_ m: inout Mutator, _ w: Witness, count: Int) throws {
        let seeds = try [Self.read("lab/profiles/small.yaml"), Self.read("lab/profiles/reference-2015.yaml")]
        for i in 0..<count {
            let text = m.mutate(seeds[i % seeds.count], others: seeds)
            w.trying("lab profile", text)
            do {
                let profile = try LabProfileParser.parse(text, source: "fuzz.yaml")
                for pair in profile.pairs { _ = TokenBucket(goodput: pair.goodput).tcArguments }
            } catch let e as LabError {
                if e.message.isEmpty || !e.message.hasPrefix("fuzz.yaml") { w.fail("lab profile", "message '\(e.message)'", text) }
            } catch {
                w.fail("lab profile", "an error that is not a LabError: \(error)", text)
            }
        }
    }

    // MARK: - results

    static let resultSeeds: [String] = {
        func line(_ path: String, _ test: String, _ rep: Int, _ value: Double, unit: String, status: String = "ok") -> String {
            #"{"schema":"cloudbench-result/1","id":"run-1/p/\#(path)/\#(test)/\#(rep)","run_id":"run-1","time":"2026-03-01T10:00:0\#(rep)Z","pair":"p","provider":"azure","type":"A2","region":"westeurope","placement":"same-az","path":"\#(path)","test":"\#(test)","repetition":\#(rep),"status":"\#(status)","error":null,"value":\#(value),"unit":"\#(unit)","price":{"amount":"0.1207","currency":"EUR"},"source":"cloudbench-agent 1.0","detail":{"intervals":[{"start_s":0,"end_s":1,"bytes":24800000}],"cpu":{"client":{"percent":12.5}},"route":{"device":"eth0","mtu":1500}}}"#
        }
        var lines: [String] = []
        for rep in 1...3 {
            lines.append(line("host", "tcp_bw", rep, 24.8 + Double(rep), unit: "MB/s"))
            lines.append(line("vxlan", "tcp_bw", rep, 20.1 + Double(rep), unit: "MB/s"))
            lines.append(line("host", "tcp_lat", rep, 80 + Double(rep), unit: "us"))
            lines.append(line("udp", "tcp_lat", rep, 120 + Double(rep), unit: "us"))
        }
        lines.append(line("host", "tcp_bw", 4, 0, unit: "MB/s", status: "failed"))
        return [lines.joined(separator: "\n") + "\n", lines.prefix(4).joined(separator: "\n")]
    }()

    func resultFiles(_ m: inout Mutator, catalog: Catalog, _ w: Witness, count: Int) {
        for i in 0..<count {
            let text = m.mutate(Self.resultSeeds[i % Self.resultSeeds.count], others: Self.resultSeeds)
            w.trying("results", text)
            let loaded = ResultStore.load(data: Data(text.utf8), name: "fuzz.jsonl")
            for warning in loaded.warnings where warning.message.isEmpty || warning.line < 1 {
                w.fail("results", "a skipped line without a reason: \(warning)", text)
            }
            guard !loaded.records.isEmpty else { continue }
            // Whatever loads must summarise and render: statistics on any values, then every format.
            let model = ReportBuilder.build(records: loaded.records, catalog: catalog,
                                            inputWarnings: loaded.warnings.map(\.description), duplicates: loaded.duplicates)
            for cell in ResultStatistics.cells(loaded.records).values {
                if let s = cell.summary, !(s.mean.isFinite && (s.stddev?.isFinite ?? true)) {
                    w.fail("results", "a summary that is not finite: \(s)", text)
                }
            }
            _ = MarkdownRenderer.render(model)
            _ = CSVRenderer.render(model)
            _ = SVGRenderer.render(model)
        }
    }

    /// qperf and iperf3 output and the reference CSV, as `cloudbench import` reads them.
    func imports(_ m: inout Mutator, _ w: Witness, count: Int) throws {
        let dir = "Tests/CloudbenchCoreTests/Fixtures/import"
        let seeds = try [Self.read("\(dir)/qperf-loopback.txt"), Self.read("\(dir)/qperf-units.txt"),
                         Self.read("\(dir)/iperf3-loopback.json"), Self.read("Tests/CloudbenchReportTests/Fixtures/reference-study-2015.csv")]
        for i in 0..<count {
            let kind = i % seeds.count
            let text = m.mutate(seeds[kind], others: [seeds[kind]])
            w.trying("import", text)
            do {
                switch kind {
                case 0, 1: _ = try QperfOutput.parse(text, file: "fuzz.txt")
                case 2: _ = try Iperf3Output.parse(text, file: "fuzz.txt")
                default: _ = try ReferenceCSV.parse(text, file: "fuzz.txt")
                }
            } catch {
                // Imports name the file and the line (`fuzz.txt: line 3: …`) or the position.
                if !"\(error)".hasPrefix("fuzz.txt:") || "\(error)".count < 12 { w.fail("import", "message '\(error)'", text) }
            }
        }
    }

    // MARK: - agent

    static let requestSeeds: [String] = {
        var bw = TestRequest(test: .tcpBandwidth)
        bw.streams = 4
        bw.interval = 0.5
        var udp = TestRequest(test: .udpBandwidth)
        udp.rate = 12_345_678
        udp.reverse = true
        var lat = TestRequest(test: .tcpLatency)
        lat.count = 100
        return [bw, udp, lat, TestRequest(test: .http)].map { $0.encodedFields() }
    }()

    func requestLines(_ m: inout Mutator, _ w: Witness, count: Int) {
        for i in 0..<count {
            let text = m.mutate(Self.requestSeeds[i % Self.requestSeeds.count], others: Self.requestSeeds)
            w.trying("request line", text)
            do {
                let r = try TestRequest(fields: ControlLine.fields(text.split(separator: " ")))
                // What is accepted must be safe to run: a bounded window, sizes within the limits.
                let window = Window(start: 0, warmup: r.warmup, duration: r.duration, interval: r.interval)
                if window.intervalCount > AgentLimits.intervals || !AgentLimits.size.contains(r.size)
                    || !AgentLimits.messageSize.contains(r.messageSize) || !AgentLimits.rate.contains(r.rate) {
                    w.fail("request line", "accepted a request outside the agent's limits", text)
                }
            } catch let e as AgentError {
                if e.description.isEmpty { w.fail("request line", "a rejection without a message", text) }
            } catch {
                w.fail("request line", "an error that is not an AgentError: \(error)", text)
            }
        }
    }

    static let resultLineSeeds = [
        "RESULT rbytes=30000000 rtotal=40000000 intervals=10000000,20000000 rcpu_user=0.5 rcpu_sys=0.25 relapsed=3.0",
        "RESULT sbytes=30000000 stotal=40000000 retrans=3 retrans_total=5 rtt_us=120.5 mss=1448 pmtu=1500 scpu_user=0.1 scpu_sys=0.2 selapsed=3.0",
        "RESULT rbytes=1 rtotal=1 intervals=1 rcpu_user=0 rcpu_sys=0 relapsed=1 sbytes=1 stotal=1 retrans=0 rtt_us=1 mss=1448 pmtu=1500 scpu_user=0 scpu_sys=0 selapsed=1",
        "RESULT cpu_user=0.01 cpu_sys=0.02 elapsed=3.1",
    ]

    func resultLines(_ m: inout Mutator, _ w: Witness, count: Int) {
        for i in 0..<count {
            let text = m.mutate(Self.resultLineSeeds[i % Self.resultLineSeeds.count], others: Self.resultLineSeeds)
            w.trying("result line", text)
            let fields = ControlLine.result(text) ?? ControlLine.fields(text.split(separator: " "))
            if let r = ReceiverStats(fields: fields) {
                // The sums the client takes must not overflow.
                _ = r.windowBytes + r.windowBytes
                _ = r.fields()
            }
            if let s = SenderStats(fields: fields) { _ = s.fields() }
        }
    }

    static let commandSeeds = [
        "run --server 10.0.0.1:5201 --token t --test tcp_bw --duration 2.5 --warmup 0 --streams 4 --message-size 65536 --reverse --interval 0.5 --json",
        "run --server [::1]:7000 --token t --test udp_bw --duration 3 --rate 1000000 --connect-timeout 5",
        "run --server 10.0.0.1:5201 --token t --test http --size 200000 --count 100",
        "serve --listen 10.0.0.1:5201 --token t --deadline 30",
    ]

    func commandLines(_ m: inout Mutator, _ w: Witness, count: Int) {
        for i in 0..<count {
            let text = m.mutate(Self.commandSeeds[i % Self.commandSeeds.count], others: Self.commandSeeds)
            w.trying("command line", text)
            do {
                switch try Invocation.parse(text.split(separator: " ").map(String.init), environment: nil) {
                case .run(let o):
                    let r = o.request
                    if Window(start: 0, warmup: r.warmup, duration: r.duration, interval: r.interval).intervalCount > AgentLimits.intervals
                        || !AgentLimits.connectTimeout.contains(o.connectTimeout) {
                        w.fail("command line", "accepted a run outside the agent's limits", text)
                    }
                case .serve(let o):
                    if !AgentLimits.deadline.contains(o.deadline) { w.fail("command line", "accepted a deadline out of range", text) }
                default: break
                }
            } catch let e as AgentError {
                if e.description.isEmpty || e.exitStatus != 2 { w.fail("command line", "'\(e)' exit \(e.exitStatus)", text) }
            } catch {
                w.fail("command line", "an error that is not an AgentError: \(error)", text)
            }
        }
    }
}
