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

        // Through a balancer of the user's own: steps are flows, every backend in each; the reference one flow to each.
        let balanced = try parse(Self.inventory("""
            shape: through
            clients: [{ address: 10.0.0.1 }]
            middle: { address: 10.0.0.9, port: 8080, external: true }
            backends: [{ address: 10.0.0.2 }, { address: 10.0.0.3 }]
            sweep: { flows: [4, 1, 2] }
            """))
        let b = balanced.groups[0]
        #expect(b.middle == nil && b.balancer == HostGroup.Balancer(address: "10.0.0.9", port: 8080) && b.steps == [1, 2, 4])
        #expect(b.hosts.count == 3 && b.stepKey == "flows" && b.plan(step: 1, direct: false) == .init(clients: 1, spokes: 2, flows: [.init(client: 0, spoke: nil)]))
        #expect(Plan(inventory: balanced).cellsByGroup[0].cells.prefix(4).map(\.testKey) == ["tcp_bw~g1", "tcp_bw~g2", "tcp_bw~g4", "tcp_bw~g2~direct"])

        // Several clients through the relay: a step of clients is the first k clients, each to every backend.
        let two = try parse(Self.inventory("""
            shape: through
            clients: [{ address: 10.0.0.1 }, { address: 10.0.0.5 }, { address: 10.0.0.6 }]
            middle: { address: 10.0.0.9 }
            backends: [{ address: 10.0.0.2 }, { address: 10.0.0.3 }]
            sweep: { clients: [1, 3] }
            """))
        let c = two.groups[0]
        #expect(c.otherClients.map(\.address) == ["10.0.0.5", "10.0.0.6"] && c.sweepOf == .clients && c.stepKey == "clients" && c.hosts.count == 6)
        #expect(c.plan(step: 1, direct: false) == .init(clients: 1, spokes: 2, flows: nil))
        #expect(c.plan(step: 3, direct: false).flows?.map { [$0.client, $0.spoke!] } == [[0, 0], [0, 1], [1, 0], [1, 1], [2, 0], [2, 1]])
        #expect(Plan(inventory: two).cellsByGroup[0].cells.prefix(3).map(\.testKey) == ["tcp_bw~g1", "tcp_bw~g3", "tcp_bw~g3~direct"])
        // Through a balancer with two clients: flows shared round robin, the reference one to each backend.
        var shared = b
        shared.otherClients = [c.otherClients[0]]
        #expect(shared.plan(step: 3, direct: false).flows?.map(\.client) == [0, 1, 0] && shared.plan(step: 3, direct: false).clients == 2)
        #expect(shared.plan(step: 3, direct: true).flows?.map { [$0.client, $0.spoke!] } == [[0, 0], [1, 1]])

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
         "g.yaml:10:34: an external middle needs 'port': the TCP port it takes the flows on and forwards to the backends' agent port"),
        ("shape: through\nclients: [{ address: 10.0.0.1 }]\nmiddle: { address: lb.example.com, port: 80, external: true, user: ops }\nbackends: [{ address: 10.0.0.2 }]",
         "g.yaml:10:24: give the external middle's IP address, not 'lb.example.com' (the client connects to it as given; resolve a name first, e.g. dig +short NAME)\n"
         + "g.yaml:10:66: an external middle is not logged in to, so it has no 'user'; give its 'address' and 'port' only"),
        ("shape: through\nclients: [{ address: 10.0.0.1 }]\nmiddle: { address: 10.0.0.9, port: 80, external: true }\nbackends: [{ address: 10.0.0.2 }]\nsweep: { backends: [1] }",
         "g.yaml:12:14: an external middle picks the backend of each flow itself, so the backends cannot be swept; sweep the flows sent through it instead: 'sweep: { flows: [1, 2, 4] }'"),
        ("shape: through\nclients: [{ address: 10.0.0.1 }]\nmiddle: { address: 10.0.0.9, port: 80, external: true }\nbackends: [{ address: 10.0.0.2 }]\nsweep: { flows: [1, 65] }",
         "g.yaml:12:25: at most 64 flows in a step, not 65"),
        ("shape: through\nclients: [{ address: 10.0.0.1 }, { address: 10.0.0.1 }]\nmiddle: { address: 10.0.0.9 }\nbackends: [{ address: 10.0.0.2 }]",
         "g.yaml:9:40: clients #2 is clients #1 too (10.0.0.1:22); each host of a group runs one end of its own flow"),
        ("shape: through\nclients: [{ address: 10.0.0.1 }, { address: 10.0.0.5 }]\nmiddle: { address: 10.0.0.9 }\nbackends: [{ address: 10.0.0.2 }]\nsweep: { clients: [1], backends: [1] }",
         "g.yaml:12:14: a sweep counts one thing: sweep 'backends' or 'clients', not both"),
        ("shape: through\nclients: [{ address: 10.0.0.1 }, { address: 10.0.0.5 }, { address: 10.0.0.6 }]\nmiddle: { address: 10.0.0.9 }\n"
         + "backends: [" + (2...23).map { "{ address: 10.0.1.\($0) }" }.joined(separator: ", ") + "]",
         "g.yaml:9:5: 3 clients each sending to 22 backends make 66 flows; a step holds at most 64"),
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
