import Foundation
import Testing
@testable import CloudbenchCore

/// `groups:` (issue 20): what loads, what a plan makes of it, and each bad input with its position.
@Suite("groups: fan-in, fan-out and through in the inventory")
struct GroupInventoryTests {
    let loader: InventoryLoader = {
        var l = InventoryLoader(catalog: try! Catalog.load(directory: RepoPaths.providers))
        l.checkFiles = false
        return l
    }()

    func parse(_ text: String) throws -> Inventory { try loader.parse(try YAMLDocument(file: "g.yaml", text: text)) }

    func problems(_ text: String) -> [String] {
        do { _ = try parse(text); return [] } catch let e as InputErrors { return e.diagnostics.map(\.description) } catch { return ["\(error)"] }
    }

    /// An inventory of one group whose body (from `shape:` on) is `body`, four spaces in.
    static func inventory(_ body: String) -> String {
        """
        version: 1
        name: groups
        run: { repetitions: 2 }
        groups:
          - name: lb
            provider: azure
            type: A2
        \(body.split(separator: "\n", omittingEmptySubsequences: false).map { "    " + $0 }.joined(separator: "\n"))
        """
    }

    @Test("each shape loads: hub, spokes, middle and steps; the plan has a cell per step and repetition, a through group its direct reference")
    func shapesLoad() throws {
        let fanIn = try parse(Self.inventory("""
            shape: fan_in
            server: { address: 10.0.0.1 }
            clients: [{ address: 10.0.0.2 }, { address: 10.0.0.3 }, { address: 10.0.0.4 }]
            sweep: { clients: [3, 1, 2] }
            """))
        #expect(fanIn.pairs.isEmpty && fanIn.groups.count == 1)
        let g = fanIn.groups[0]
        #expect(g.shape == .fanIn && g.hub.address == "10.0.0.1" && g.spokes.map(\.address) == ["10.0.0.2", "10.0.0.3", "10.0.0.4"])
        #expect(g.steps == [1, 2, 3] && g.repetitions == 2 && g.middle == nil)
        #expect(fanIn.hosts.count == 4)
        let plan = Plan(inventory: fanIn)
        #expect(plan.cellCount == 6)
        #expect(plan.cellsByGroup[0].cells.map(\.testKey) == ["tcp_bw~g1", "tcp_bw~g2", "tcp_bw~g3", "tcp_bw~g1", "tcp_bw~g2", "tcp_bw~g3"])

        let through = try parse(Self.inventory("""
            shape: through
            clients: [{ address: 10.0.0.1 }]
            middle: { address: 10.0.0.9 }
            backends: [{ address: 10.0.0.2 }, { address: 10.0.0.3 }]
            """))
        let t = through.groups[0]
        #expect(t.middle?.address == "10.0.0.9" && t.steps == [2] && t.hosts.count == 4)
        #expect(Plan(inventory: through).cellsByGroup[0].cells.map(\.testKey) == ["tcp_bw~g2", "tcp_bw~g2~direct", "tcp_bw~g2", "tcp_bw~g2~direct"])

        let fanOut = try parse(Self.inventory("""
            shape: fan_out
            client: { address: 10.0.0.1 }
            servers: [{ address: 10.0.0.2 }]
            """))
        #expect(fanOut.groups[0].shape == .fanOut && fanOut.groups[0].recordPair.client.address == "10.0.0.1")
        // A failed record still says its step, so a resumed run does not run it twice.
        let v = CellVariant(groupStep: 2, groupDirect: true)
        #expect(CellVariant.of(test: "tcp_bw", detail: .object(v.statedDetail(test: .tcpBandwidth))) == v)
        // And a measured one, whose agent JSON says the flows' direction and summed streams: still step 3.
        let measured: JSONValue = .object(["direction": .string("server_to_client"), "streams": .number(3),
                                           "group": .object(["shape": .string("fan_in"), "step": .number(3)])])
        #expect(CellVariant.of(test: "tcp_bw", detail: measured) == CellVariant(groupStep: 3))
        #expect(Cell(pair: "lb", path: .host, test: .tcpBandwidth, repetition: 1, variant: CellVariant.of(test: "tcp_bw", detail: measured)).testKey == "tcp_bw~g3")
    }

    @Test("bad input: one line with the position and what to do", arguments: [
        ("shape: fan_in\nserver: { address: 10.0.0.1 }\nclients: [{ address: 10.0.0.2 }]\nsweep: { clients: [1, 2] }",
         "g.yaml:11:27: the sweep asks for 2 clients and the group lists 1; add hosts to 'clients' or lower the step"),
        ("shape: fan_in\nserver: { address: 10.0.0.1 }\nclients: [{ address: 10.0.0.2 }, { address: 10.0.0.1 }]",
         "g.yaml:10:40: clients #2 is the server too (10.0.0.1:22); each host of a group runs one end of its own flow"),
        ("shape: fan_inn\nserver: { address: 10.0.0.1 }",
         "g.yaml:8:12: unknown shape 'fan_inn'; did you mean 'fan_in'?"),
        ("shape: fan_out\nclient: { address: 10.0.0.1 }\nclients: [{ address: 10.0.0.2 }]",
         "g.yaml:5:5: group 'lb' has no 'servers'; list its hosts like 'servers: [{ address: 10.0.0.5 }, …]'\ng.yaml:10:5: a fan_out group has no 'clients'; it takes 'client', 'servers'"),
        ("shape: fan_out\nclient: { address: 10.0.0.1 }\nservers: [{ address: 10.0.0.2 }]\nsweep: { clients: [1] }",
         "g.yaml:11:5: a fan_out group sweeps its servers: write 'sweep: { servers: [1, 2, 3] }'"),
        ("shape: through\nclients: [{ address: 10.0.0.1 }]\nmiddle: { address: 10.0.0.9, external: true }\nbackends: [{ address: 10.0.0.2 }]",
         "g.yaml:10:34: an external middle (a load balancer of your own) is not measured by this version: cloudbench runs its own relay on the middle host; remove 'external' and give the middle's SSH address"),
        ("shape: fan_in\nserver: { address: 10.0.0.1 }\nclients: [{ address: 10.0.0.2 }]\nsweep: { clients: [1, 1] }",
         "g.yaml:11:27: step 1 is listed twice"),
        ("shape: fan_in\nserver: { address: 10.0.0.1 }\nclients: []",
         "g.yaml:10:14: 'clients' must be a list of hosts, like 'clients: [{ address: 10.0.0.5 }, …]'"),
    ])
    func badInput(body: String, expected: String) {
        // Sorted by position, as `cloudbench validate` prints them.
        #expect(problems(Self.inventory(body)).joined(separator: "\n") == expected)
    }

    @Test("a group may not take a pair's name")
    func nameClash() {
        let text = """
        version: 1
        name: groups
        pairs:
          - { name: lb, provider: azure, type: A2, server: { address: 10.0.0.1 }, client: { address: 10.0.0.2 } }
        groups:
          - { name: lb, shape: fan_out, provider: azure, type: A2, client: { address: 10.0.0.1 }, servers: [{ address: 10.0.0.3 }] }
        """
        #expect(problems(text) == ["g.yaml:6:7: the name 'lb' is already used at line 4; pair and group names must be unique"])
    }

    @Test("Jain's fairness: 1 for equal flows, 1/n when one takes all")
    func fairness() {
        #expect(HostGroup.fairness([5, 5, 5]) == 1)
        #expect(abs(HostGroup.fairness([9, 0, 0])! - 1.0 / 3) < 1e-12)
        #expect(HostGroup.fairness([]) == nil && HostGroup.fairness([0, 0]) == nil)
    }
}
