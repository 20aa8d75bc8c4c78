import AgentContract
import Foundation
import Testing
@testable import CloudbenchCore

/// `directions:`, stream sweeps and `udp_rate: search`: what validates (with positions), how a
/// plan expands them into cells, and how records of each variant keep apart.
@Suite("directions, stream sweeps and the UDP rate search")
struct DirectionsStreamsTests {
    let loader: InventoryLoader = {
        var l = InventoryLoader(catalog: try! Catalog.load(directory: RepoPaths.providers))
        l.checkFiles = false
        return l
    }()

    static func inventory(run: String, pair: String = "") -> String {
        """
        version: 1
        name: sweep
        run: { \(run) }
        pairs:
          - name: a
            provider: azure
            type: A2
            server: { address: 10.0.0.1 }
            client: { address: 10.0.0.2 }
        \(pair.isEmpty ? "" : "    " + pair)
        """
    }

    func parse(_ text: String) throws -> Inventory { try loader.parse(try YAMLDocument(file: "d.yaml", text: text)) }

    func problems(_ text: String) -> [String] {
        do { _ = try parse(text); return [] } catch let e as InputErrors { return e.diagnostics.map(\.description) } catch { return ["\(error)"] }
    }

    @Test("bad input names the key, the value and its position", arguments: [
        ("tests: [tcp_bw], streams: [1, 0, 8]", "", "d.yaml:3:38: 'streams' must be a whole number from 1 to 128, not '0'"),
        ("tests: [tcp_bw], streams: 129", "", "d.yaml:3:34: 'streams' must be a whole number from 1 to 128, not '129'"),
        ("tests: [tcp_bw], streams: [4, 4]", "", "d.yaml:3:38: stream count 4 is listed twice"),
        ("tests: [tcp_bw], directions: [client_to_server, server_to_clinet]", "",
         "d.yaml:3:56: unknown direction 'server_to_clinet'; did you mean 'server_to_client'?"),
        ("tests: [tcp_bw], udp_rate: search", "",
         "d.yaml:3:25: 'udp_rate: search' searches the rate of udp_bw and udp_pps, and no pair runs either; add one to 'tests' or give a rate"),
        ("tests: [tcp_bw, udp_bw]", "udp_rate: search\n    tests: [tcp_bw]",
         "d.yaml:10:5: 'udp_rate: search' searches the rate of udp_bw and udp_pps, and this pair runs neither; add one to the pair's 'tests'"),
        ("tests: [udp_bw], udp_rate: fast", "", "d.yaml:3:35: 'udp_rate' must be a whole number from 1000 to 100000000000 (bytes per second) or 'search', not 'fast'"),
        ("tests: [tcp_bw]", "streams: [2, 200]", "d.yaml:10:18: 'streams' must be a whole number from 1 to 128, not '200'"),
    ])
    func badInput(run: String, pair: String, expected: String) {
        #expect(problems(Self.inventory(run: run, pair: pair)) == [expected])
    }

    @Test("each direction × stream count of tcp_bw is its own cell; udp_bw runs the one-way directions; tcp_lat runs once")
    func planExpands() throws {
        let inv = try parse(Self.inventory(run: "tests: [tcp_bw, udp_bw, tcp_lat], repetitions: 1, streams: [1, 8], "
                                                + "directions: [client_to_server, server_to_client, bidirectional], udp_rate: search"))
        #expect(inv.pairs[0].streams == [1, 8] && inv.pairs[0].directions.count == 3 && inv.pairs[0].udpRateSearch)
        let cells = Plan(inventory: inv).cellsByPair[0].cells
        #expect(cells.count == 6 + 2 + 1)
        #expect(cells.map(\.testKey) == [
            "tcp_bw", "tcp_bw~s8", "tcp_bw~server_to_client", "tcp_bw~server_to_client~s8", "tcp_bw~bidirectional", "tcp_bw~bidirectional~s8",
            "udp_bw~search", "udp_bw~server_to_client~search", "tcp_lat",
        ])
        #expect(Set(cells.map(\.testKey)).count == cells.count, "two cells would share a record id")
        // A pair's own keys override run's.
        let own = try parse(Self.inventory(run: "tests: [tcp_bw], streams: [1, 8]", pair: "streams: 4\n    directions: server_to_client"))
        #expect(own.pairs[0].streams == [4] && own.pairs[0].directions == [.serverToClient])
        #expect(Plan(inventory: own).cellsByPair[0].cells.map(\.description) == [
            "a host tcp_bw (server_to_client 4 streams) #1", "a host tcp_bw (server_to_client 4 streams) #2", "a host tcp_bw (server_to_client 4 streams) #3",
        ])
    }

    @Test("the plain cell keeps its record id; a variant's record says which cell it was, even failed")
    func variantsFromRecords() {
        #expect(Cell(pair: "a", path: .host, test: .tcpBandwidth, repetition: 1).testKey == "tcp_bw")
        let v = CellVariant(direction: .serverToClient, streams: 4)
        let stated = JSONValue.object(v.statedDetail(test: .tcpBandwidth))
        #expect(CellVariant.of(test: "tcp_bw", detail: stated) == v)
        #expect(CellVariant.of(test: "tcp_bw", detail: nil) == .plain)
        let search = CellVariant(udpRateSearch: true)
        #expect(CellVariant.of(test: "udp_bw", detail: .object(search.statedDetail(test: .udpBandwidth))) == search)
        #expect(CellVariant.plain.statedDetail(test: .tcpBandwidth).isEmpty)
    }

    @Test("a searched udp_bw cell is one identity whatever rate each repetition found, apart from fixed-rate cells")
    func searchIdentity() {
        func setup(_ d: [String: JSONValue]) -> TestSetup { TestSetup.of(test: "udp_bw", detail: .object(d)) }
        let a = setup(["udp_rate": .string("search"), "target_bytes_per_second": .number(24e6)])
        let b = setup(["udp_rate": .string("search"), "target_bytes_per_second": .number(25e6)])
        let fixed = setup(["target_bytes_per_second": .number(24e6)])
        #expect(a == b && a.udpRateSearch && a.udpRate == nil)
        #expect(a != fixed && fixed.udpRate == 24e6)
        #expect(!TestSetup.stated(test: "udp_bw", detail: .object(["udp_rate": .string("search")])).agrees(with: fixed))
    }
}
