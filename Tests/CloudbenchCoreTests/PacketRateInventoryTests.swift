import AgentContract
import Foundation
import Testing
@testable import CloudbenchCore

/// `udp_pps` in an inventory: its offered packet rate and payload size with positions when wrong,
/// its rate search, its cells and how its records are told apart and measured.
@Suite("udp_pps in inventories, plans and records")
struct PacketRateInventoryTests {
    func parse(_ text: String) throws -> Inventory {
        var l = InventoryLoader(catalog: try Catalog.load(directory: RepoPaths.providers))
        l.checkFiles = false
        return try l.parse(try YAMLDocument(file: "d.yaml", text: text))
    }

    func problems(_ text: String) -> [String] {
        do { _ = try parse(text); return [] } catch let e as InputErrors { return e.diagnostics.map(\.description) } catch { return ["\(error)"] }
    }

    @Test("a payload outside 16..65507 bytes, a rate ≤ 0 or not a number: the key, the value and its position", arguments: [
        ("tests: [udp_pps], udp_pps_payload: 8", "d.yaml:3:43: 'udp_pps_payload' must be a whole number from 16 to 65507, not '8'"),
        ("tests: [udp_pps], udp_pps_payload: 65508", "d.yaml:3:43: 'udp_pps_payload' must be a whole number from 16 to 65507, not '65508'"),
        ("tests: [udp_pps], udp_pps_rate: 0", "d.yaml:3:40: 'udp_pps_rate' must be a whole number from 1 to 100000000, not '0'"),
        ("tests: [udp_pps], udp_pps_rate: -100", "d.yaml:3:40: 'udp_pps_rate' must be a whole number from 1 to 100000000, not '-100'"),
        ("tests: [udp_pps], udp_pps_rate: lots", "d.yaml:3:40: 'udp_pps_rate' must be a whole number from 1 to 100000000, not 'lots'"),
        ("tests: [udp_pss]", "d.yaml:3:16: unknown test 'udp_pss'; did you mean 'udp_pps'?"),
    ])
    func badInput(run: String, expected: String) {
        #expect(problems(DirectionsStreamsTests.inventory(run: run)) == [expected])
    }

    @Test("udp_pps takes its rate and payload from run:, searches with udp_rate: search, one cell per one-way direction")
    func planAndVariants() throws {
        let fixed = try parse(DirectionsStreamsTests.inventory(run: "tests: [udp_pps], udp_pps_rate: 250000, udp_pps_payload: 128, repetitions: 1"))
        #expect(fixed.run.udpPacketRate == 250_000 && fixed.run.udpPacketPayload == 128)
        #expect(Plan(inventory: fixed).cellsByPair[0].cells.map(\.testKey) == ["udp_pps"])
        #expect(RunSettings().udpPacketRate == 100_000 && RunSettings().udpPacketPayload == 64)

        let searched = try parse(DirectionsStreamsTests.inventory(
            run: "tests: [udp_pps, tcp_lat], udp_rate: search, repetitions: 1, directions: [client_to_server, server_to_client, bidirectional]"))
        #expect(Plan(inventory: searched).cellsByPair[0].cells.map(\.testKey) == ["udp_pps~search", "udp_pps~server_to_client~search", "tcp_lat"])
        // A record says it searched; so does the cell identity it lands in.
        let detail = JSONValue.object(CellVariant(udpRateSearch: true).statedDetail(test: .udpPackets))
        #expect(CellVariant.of(test: "udp_pps", detail: detail).udpRateSearch)
        #expect(TestSetup.of(test: "udp_pps", detail: detail).udpRateSearch)
    }

    @Test("a udp_pps record's setup is its payload and offered datagrams per second; its value is in pps")
    func setupAndUnit() throws {
        let d = try JSONValue.parse(#"{"message_size": 64, "target_packets_per_second": 20000, "direction": "client_to_server"}"#)
        let s = TestSetup.of(test: "udp_pps", detail: d)
        #expect(s.messageSize == 64 && s.udpRate == 20_000 && !s.udpRateSearch)
        #expect(s != TestSetup.of(test: "udp_pps", detail: try JSONValue.parse(#"{"message_size": 1024, "target_packets_per_second": 20000}"#)))
        #expect(MeasurementUnit.canonical(for: "udp_pps") == "pps")
        #expect(MeasurementUnit.normalise(1.5, unit: "Mpps", test: "udp_pps")! == (1_500_000, "pps"))
        #expect(MeasurementUnit.normalise(1.5, unit: "MB/s", test: "udp_pps") == nil)
    }
}
