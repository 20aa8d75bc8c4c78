import CloudbenchCore
import Foundation
import Testing
@testable import CloudbenchLab

/// A profile's `groups:` (issue 20): written into the lab's inventory by address, where the
/// inventory loader reads them back; a host that is no instance of the profile is refused with its place.
@Suite("Lab groups")
struct LabGroupTests {
    @Test("the reference profile's load balancer becomes a through group over its pairs' instances, and validates")
    func referenceGroup() throws {
        let dir = TestSupport.packageRoot.appendingPathComponent("lab/profiles").path
        let profile = try LabProfileParser.load(path: "\(dir)/reference-2015.yaml")
        let group = try #require(profile.groups.first)
        #expect(group.shape == "through" && group.middle == "azure-a2-server" && group.spokes == ["azure-d1-server", "azure-d1-client"])
        let layout = try LabLayout(configuration: LabConfiguration(), profile: profile)
        let text = LabInventory.yaml(layout: layout, files: LabFiles(directory: "/run/cloudbench-lab/x"))
        var loader = InventoryLoader(catalog: try Catalog.load(directory: TestSupport.packageRoot.appendingPathComponent("providers").path))
        loader.checkFiles = false
        let inventory = try loader.parse(try YAMLDocument(file: "lab.yaml", text: text))
        let g = try #require(inventory.groups.first)
        let address = { (id: String) in layout.instances.first { $0.id == id }!.address }
        #expect(g.shape == .through && g.middle?.address == address("azure-a2-server") && g.hub.address == address("azure-d2-client"))
        #expect(g.spokes.map(\.address) == [address("azure-d1-server"), address("azure-d1-client")] && g.steps == [1, 2] && g.repetitions == 2)
        #expect(text.contains("# azure-d2-client 117 MB/s, azure-a2-server 24.8 MB/s"), "\(text)")
    }

    @Test("a group's host that is no instance, a sweep past its hosts, an unknown shape: refused with their place", arguments: [
        ("groups:\n  - { name: g, shape: fan_in, provider: p, type: t, server: a-server, clients: [a-client, b-server] }\n",
         "p.yaml:5:91: 'b-server' is no instance of this profile; name one as PAIR-server or PAIR-client"),
        ("groups:\n  - { name: g, shape: fan_in, provider: p, type: t, server: a-server, clients: [a-client], sweep: [1, 2] }\n",
         "p.yaml:5:103: a sweep step is a number of clients from 1 to 1"),
        ("groups:\n  - { name: g, shape: ring, provider: p, type: t }\n", "p.yaml:5:23: shape must be fan_in, fan_out or through"),
        ("groups:\n  - { name: a, shape: fan_in, provider: p, type: t, server: a-server, clients: [a-client] }\n",
         "p.yaml:5:13: the name 'a' is a pair's or another group's"),
        ("groups:\n  - { name: g, shape: through, provider: p, type: t, client: a-client, clients: [a-client], middle: a-server, backends: [a-server] }\n",
         "p.yaml:5:81: give 'client' or 'clients', not both"),
    ])
    func mistakes(groups: String, message: String) {
        // (A through group's own list of clients is read as its clients, first one the hub.)
        let yaml = "name: x\npairs:\n  - { name: a, provider: p, type: t, goodput: 1 MB/s }\n" + groups
        #expect(throws: LabError.usage(message)) { try LabProfileParser.parse(yaml, source: "p.yaml") }
    }

    @Test("a through group of several clients: written as the inventory's clients, read back as the group's")
    func severalClients() throws {
        let yaml = """
        name: x
        pairs:
          - { name: a, provider: azure, type: A2, goodput: 10 MB/s }
          - { name: b, provider: azure, type: A2, goodput: 10 MB/s }
          - { name: m, provider: azure, type: A2, goodput: 15 MB/s }
        groups:
          - { name: two, shape: through, provider: azure, type: A2, clients: [a-client, b-client], middle: m-server, backends: [a-server, b-server] }
        """
        let profile = try LabProfileParser.parse(yaml, source: "p.yaml")
        #expect(profile.groups.first?.hub == "a-client" && profile.groups.first?.otherClients == ["b-client"])
        let layout = try LabLayout(configuration: LabConfiguration(), profile: profile)
        let text = LabInventory.yaml(layout: layout, files: LabFiles(directory: "/run/cloudbench-lab/x"))
        var loader = InventoryLoader(catalog: try Catalog.load(directory: TestSupport.packageRoot.appendingPathComponent("providers").path))
        loader.checkFiles = false
        let g = try #require(try loader.parse(try YAMLDocument(file: "lab.yaml", text: text)).groups.first)
        let address = { (id: String) in layout.instances.first { $0.id == id }!.address }
        #expect(g.hub.address == address("a-client") && g.otherClients.map(\.address) == [address("b-client")], "\(text)")
    }
}
