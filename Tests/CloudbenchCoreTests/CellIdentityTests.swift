import Foundation
import Testing
@testable import CloudbenchCore

/// What a cell is: records that differ in anything that changes a figure never share one.
@Suite("Cell identity, paired intervals, placement, regional prices, record checks")
struct CellIdentityTests {
    static func record(_ id: String, region: String = "westeurope", placement: String? = nil, path: String = "host",
                       test: String = "tcp_bw", run: String = "r1", pair: String = "p", repetition: Int = 1,
                       value: Double?, detail: [String: JSONValue]? = nil, time: String = "2026-01-01T00:00:00Z",
                       unit: String? = nil) -> ResultRecord {
        ResultRecord(id: id, runID: run, time: time, pair: pair, provider: "azure", type: "D2s_v5", region: region,
                     placement: placement, path: path, test: test, repetition: repetition, status: value == nil ? .failed : .ok,
                     value: value, unit: unit ?? (test == "tcp_bw" ? "MB/s" : "us"), detail: detail.map(JSONValue.object))
    }

    @Test("records differing only in region, streams, direction or message size never share a cell", arguments: [
        ("region", [CellIdentityTests.record("a", value: 100), CellIdentityTests.record("b", region: "eastus", value: 1000)]),
        ("streams", [CellIdentityTests.record("a", value: 100, detail: ["streams": .number(1)]), CellIdentityTests.record("b", value: 1000, detail: ["streams": .number(8)])]),
        ("direction", [CellIdentityTests.record("a", value: 100, detail: ["direction": .string("client_to_server")]),
                       CellIdentityTests.record("b", value: 90, detail: ["direction": .string("server_to_client")])]),
        ("message size", [CellIdentityTests.record("a", value: 100, detail: ["message_size": .number(65536)]),
                          CellIdentityTests.record("b", value: 60, detail: ["message_size": .number(1400)])]),
        ("UDP offered rate", [CellIdentityTests.record("a", test: "udp_bw", value: 10, detail: ["target_bytes_per_second": .number(1e7)], unit: "MB/s"),
                              CellIdentityTests.record("b", test: "udp_bw", value: 90, detail: ["target_bytes_per_second": .number(1e8)], unit: "MB/s")]),
        ("HTTP object size", [CellIdentityTests.record("a", test: "http", value: 2, detail: ["size": .number(200_000)], unit: "ms"),
                              CellIdentityTests.record("b", test: "http", value: 4, detail: ["size": .number(400_000)], unit: "ms")]),
    ])
    func neverBlended(what: String, records: [ResultRecord]) throws {
        let cells = ResultStatistics.cells(records)
        #expect(cells.count == 2, "\(what) blended")
        #expect(cells.values.allSatisfy { $0.summary?.n == 1 })
    }

    @Test("the same cell across runs and pairs is merged; same-az is same-zone; no region is nil")
    func merged() throws {
        let cells = ResultStatistics.cells([
            CellIdentityTests.record("a", placement: "same-az", run: "r1", pair: "p", value: 100, detail: ["streams": .number(1)]),
            CellIdentityTests.record("b", placement: "same-zone", run: "r2", pair: "q", value: 102),  // no detail: one stream, client → server
        ])
        let c = try #require(cells.values.first)
        #expect(cells.count == 1 && c.summary?.n == 2 && c.runIDs == ["r1", "r2"] && c.pairs == ["p", "q"])
        #expect(c.key.placement == "same-zone" && c.key.setup.streams == 1 && c.key.setup.direction == "client_to_server")
        #expect(CellIdentity(CellIdentityTests.record("x", region: "unspecified", value: 1)).region == nil)
        #expect(CellIdentity(CellIdentityTests.record("x", region: "", value: 1)).region == nil)
    }

    @Test("a failed record is counted in the one cell its stated knobs agree with, else on its own")
    func failuresFindTheirCell() throws {
        func failed(_ id: String, _ detail: [String: JSONValue]? = nil) -> ResultRecord {
            CellIdentityTests.record(id, value: nil, detail: detail)
        }
        let eight: [String: JSONValue] = ["streams": .number(8), "message_size": .number(65536)]
        let one: [String: JSONValue] = ["streams": .number(1), "message_size": .number(65536)]
        // The agent's measurement says 8 streams and 64 KiB; the failure has no measurement, so no detail.
        let alone = ResultStatistics.cells([CellIdentityTests.record("a", value: 900, detail: eight), failed("f")])
        #expect(alone.count == 1 && alone.values.first?.failed == 1 && alone.values.first?.key.setup.streams == 8)
        // Two cells it could belong to: it is not guessed into either.
        let two = ResultStatistics.cells([CellIdentityTests.record("a", value: 900, detail: eight),
                                          CellIdentityTests.record("b", value: 100, detail: one), failed("f")])
        #expect(two.count == 3 && two.values.filter { $0.summary != nil }.allSatisfy { $0.failed == 0 })
        // A failure that states its knobs goes where they agree.
        let stated = ResultStatistics.cells([CellIdentityTests.record("a", value: 900, detail: eight),
                                             CellIdentityTests.record("b", value: 100, detail: one), failed("f", ["streams": .number(8)])])
        #expect(stated.count == 2 && stated.values.first { $0.key.setup.streams == 8 }?.failed == 1)
    }

    // MARK: - statistics

    static func rounds(_ path: String, _ values: [Double], run: String = "r1", start: Int = 1) -> [ResultRecord] {
        values.enumerated().map { i, v in CellIdentityTests.record("\(path)\(run)\(i)", path: path, run: run, repetition: start + i, value: v) }
    }

    @Test("overlay versus host on the same pair and rounds is paired: t interval of the per-round differences")
    func paired() throws {
        let cells = ResultStatistics.cells(Self.rounds("vxlan", [80, 84, 82, 78]) + Self.rounds("host", [100, 102, 98, 101]))
        let vx = try #require(cells.keys.first { $0.path == "vxlan" })
        let p = try #require(ResultStatistics.penalty(of: vx, in: cells))
        // d = −20, −18, −16, −23: d̄ = −19.25, s_d = 2.986, t(0.975, 3) = 3.182; host mean 100.25.
        #expect(p.method == .paired && p.n == 4 && p.degreesOfFreedom == 3)
        #expect(abs(p.percent - (-19.202)) < 1e-3)
        #expect(abs(p.interval!.low - (-23.942)) < 1e-3 && abs(p.interval!.high - (-14.462)) < 1e-3)
    }

    @Test("rounds that do not line up are compared with Welch's interval, and the report can say so")
    func welch() throws {
        // The host was measured in another run: nothing pairs.
        let cells = ResultStatistics.cells(Self.rounds("vxlan", [80, 84, 82, 78]) + Self.rounds("host", [100, 102, 98, 101], run: "r2"))
        let vx = try #require(cells.keys.first { $0.path == "vxlan" })
        let p = try #require(ResultStatistics.penalty(of: vx, in: cells))
        #expect(p.method == .welch)
        #expect(abs(p.interval!.halfWidth - 3.923) < 1e-3 && abs(p.degreesOfFreedom! - 5.203) < 1e-3)
        // A missing host round also makes it unpaired.
        let partial = ResultStatistics.cells(Self.rounds("vxlan", [80, 84, 82]) + Self.rounds("host", [100, 102]))
        let k = try #require(partial.keys.first { $0.path == "vxlan" })
        #expect(ResultStatistics.penalty(of: k, in: partial)?.method == .welch)
    }

    @Test("a throughput interval never goes below zero, and says it was cut")
    func clamped() throws {
        let s = try #require(Summary([10, 100], floor: 0))
        // 55 ± 12.706 · 63.64 / √2 = 55 ± 571.8: cut at 0.
        #expect(s.clampedAtFloor && s.confidenceInterval?.low == 0 && abs(s.confidenceInterval!.high - 626.78) < 0.01)
        let wide = try #require(Summary([100, 102, 98], floor: 0))
        #expect(!wide.clampedAtFloor)
        // A path can lose at most 100 % of the host's throughput.
        let p = try #require(OverlayPenalty(path: Summary([1, 60])!, host: Summary([100, 101])!))
        #expect(p.clamped && p.interval?.low == -100)
    }

    // MARK: - placement and zones

    let loader: InventoryLoader = {
        var l = InventoryLoader(catalog: try! Catalog.load(directory: RepoPaths.providers))
        l.checkFiles = false
        return l
    }()

    func inventory(placement: String?, serverZone: String?, clientZone: String?) -> String {
        """
        version: 1
        name: zones
        pairs:
          - name: a
            provider: aws
            type: m5.large
            region: us-east-1
        \(placement.map { "    placement: \($0)\n" } ?? "")    server: { address: 10.0.0.1\(serverZone.map { ", zone: \($0)" } ?? "") }
            client: { address: 10.0.0.2\(clientZone.map { ", zone: \($0)" } ?? "") }
        """
    }

    @Test("placement aliases are accepted with a warning naming the new word")
    func aliases() throws {
        let inv = try loader.parse(try YAMLDocument(file: "z.yaml", text: inventory(placement: "same-az", serverZone: nil, clientZone: nil)))
        #expect(inv.pairs[0].placement == "same-zone")
        #expect(inv.warnings.map(\.description) == ["z.yaml:8:16: placement 'same-az' is an old name; write 'same-zone'"])
        let cross = try loader.parse(try YAMLDocument(file: "z.yaml", text: inventory(placement: "cross-az", serverZone: nil, clientZone: nil)))
        #expect(cross.pairs[0].placement == "cross-zone" && cross.warnings.count == 1)
        let plain = try loader.parse(try YAMLDocument(file: "z.yaml", text: inventory(placement: "placement-group", serverZone: nil, clientZone: nil)))
        #expect(plain.pairs[0].placement == "placement-group" && plain.warnings.isEmpty)
    }

    @Test("an unknown placement is an error with the closed set")
    func unknownPlacement() throws {
        do {
            _ = try loader.parse(try YAMLDocument(file: "z.yaml", text: inventory(placement: "same-rack", serverZone: nil, clientZone: nil)))
            Issue.record("accepted")
        } catch let e as InputErrors {
            #expect(e.diagnostics.count == 1)
            #expect(e.diagnostics.first?.description.hasPrefix("z.yaml:8:16: unknown placement 'same-rack'") == true)
        }
    }

    @Test("both zones known: the placement is derived from them", arguments: [
        ("us-east-1a", "us-east-1a", "same-zone"), ("us-east-1a", "us-east-1b", "cross-zone"),
    ])
    func derived(server: String, client: String, expected: String) throws {
        let inv = try loader.parse(try YAMLDocument(file: "z.yaml", text: inventory(placement: nil, serverZone: server, clientZone: client)))
        #expect(inv.pairs[0].placement == expected)
        #expect(inv.pairs[0].server.zone == server && inv.pairs[0].client.zone == client)
    }

    @Test("a written placement that contradicts the zones is an error at its position", arguments: [
        ("same-zone", "us-east-1b"), ("placement-group", "us-east-1b"), ("cross-zone", "us-east-1a"),
    ])
    func contradiction(placement: String, clientZone: String) throws {
        do {
            _ = try loader.parse(try YAMLDocument(file: "z.yaml", text: inventory(placement: placement, serverZone: "us-east-1a", clientZone: clientZone)))
            Issue.record("accepted")
        } catch let e as InputErrors {
            #expect(e.diagnostics.count == 1)
            #expect(e.diagnostics[0].description.hasPrefix("z.yaml:8:16: placement '\(placement)' contradicts the zones: the server is in us-east-1a, the client in \(clientZone)"))
        }
        // Agreeing is fine.
        let ok = try loader.parse(try YAMLDocument(file: "z.yaml", text: inventory(placement: "same-zone", serverZone: "us-east-1a", clientZone: "us-east-1a")))
        #expect(ok.pairs[0].placement == "same-zone")
    }

    // MARK: - regional prices

    @Test("a catalog price is for its region; `any` prices every region; another region's price is never borrowed")
    func regionalPrices() throws {
        let catalog = try Catalog.load(directory: RepoPaths.providers)
        #expect(catalog.price("azure", "D2s_v5", region: "eastus")?.money == Money(Decimal(string: "0.096")!, "USD"))
        #expect(catalog.price("azure", "D2s_v5", region: "westeurope") == nil)
        #expect(catalog.price("azure", "D2s_v5", region: nil) == nil)
        #expect(catalog.price("digitalocean", "512mb", region: "ams3")?.region == "any")
        #expect(catalog.price("digitalocean", "512mb", region: nil)?.region == "any")
        #expect(catalog.type("azure", "D2s_v5")?.pricedRegions == ["eastus"])
    }

    @Test("fetched prices are kept per region; an old-shape entry prices only the region it was fetched for")
    func fetchedPerRegion() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cb-regions-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("prices"), withIntermediateDirectories: true)
        for f in ["azure.yaml", "fx.yaml"] {
            try FileManager.default.copyItem(atPath: "\(RepoPaths.providers)/\(f)", toPath: dir.appendingPathComponent(f).path)
        }
        // The earlier shape: one entry per type, with the region it was fetched for.
        try """
        provider: azure
        prices:
          - { type: D2s_v5, amount: "0.115", currency: USD, region: westeurope, source: "s", fetched_at: "2026-11-01T00:00:00Z" }
          - { type: B1s, amount: "0.0104", currency: USD, region: eastus, source: "s", fetched_at: "2026-11-01T00:00:00Z" }
        """.write(to: dir.appendingPathComponent("prices/azure.yaml"), atomically: true, encoding: .utf8)
        let catalog = try Catalog.load(directory: dir.path)
        #expect(catalog.price("azure", "D2s_v5", region: "westeurope")?.money.amount == Decimal(string: "0.115"))
        #expect(catalog.price("azure", "D2s_v5", region: "westeurope")?.status == .fetched)
        // The hand-written eastus price stays for eastus; the westeurope one does not spread.
        #expect(catalog.price("azure", "D2s_v5", region: "eastus")?.money.amount == Decimal(string: "0.096"))
        #expect(catalog.price("azure", "B1s", region: "westeurope") == nil)
        #expect(catalog.type("azure", "D2s_v5")?.pricedRegions == ["eastus", "westeurope"])
    }

    // MARK: - records from outside

    @Test("a record with a bad value, time or unit is refused with the reason", arguments: [
        (CellIdentityTests.record("a", value: -3), "value -3.0 is negative"),
        (CellIdentityTests.record("a", value: .infinity), "value is not a finite number"),
        (CellIdentityTests.record("a", value: 1, time: "1999-12-31T23:59:59Z"), "before 2000"),
        (CellIdentityTests.record("a", value: 1, time: "2026-12-03T00:00:00Z"), "more than a day ahead"),
        (CellIdentityTests.record("a", value: 1, time: "yesterday"), "not an ISO 8601"),
        (CellIdentityTests.record("a", value: 1, unit: "MB/sec"), "unknown unit 'MB/sec' for tcp_bw"),
        (CellIdentityTests.record("a", test: "tcp_lat", value: 1, unit: "MB/s"), "unknown unit 'MB/s' for tcp_lat"),
    ])
    func refused(record: ResultRecord, reason: String) {
        let now = ISO8601DateFormatter().date(from: "2026-12-01T00:00:00Z")!
        let problem = RecordCheck.problem(record, latest: RecordCheck.latest(now: now))
        #expect(problem?.contains(reason) == true, "\(problem ?? "accepted")")
    }

    @Test("loading skips bad records as FILE:LINE: reason and keeps the rest")
    func loadSkips() throws {
        let now = ISO8601DateFormatter().date(from: "2026-12-01T00:00:00Z")!
        let lines = try [CellIdentityTests.record("a", value: 100), CellIdentityTests.record("b", value: -1), CellIdentityTests.record("c", value: 1, time: "1970-01-01T00:00:00Z"),
                         CellIdentityTests.record("d", value: 102)].map { try $0.jsonLine() }
        let loaded = ResultStore.load(data: Data((lines.joined(separator: "\n") + "\n").utf8), name: "r.jsonl", now: now)
        #expect(loaded.records.map(\.id) == ["a", "d"])
        #expect(loaded.warnings.map(\.description) == [
            "r.jsonl:2: skipped: value -1.0 is negative; a throughput or a time cannot be",
            "r.jsonl:3: skipped: time 1970-01-01T00:00:00Z is before 2000",
        ])
    }
}
