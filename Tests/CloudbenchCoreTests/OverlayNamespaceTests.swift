import Foundation
import Testing
@testable import CloudbenchCore

@Suite("Overlay addresses in a namespace")
struct OverlayNamespaceTests {
    let loader = InventoryLoader(catalog: try! Catalog.load(directory: RepoPaths.providers))

    func inventory(_ server: String, _ client: String = "{ address: 10.244.2.7, netns: \"pod:default/bench-b\" }") -> String {
        """
        version: 1
        name: pods
        pairs:
          - name: p
            provider: aws
            type: m4.large
            server: { address: 192.0.2.10, overlays: { calico: \(server) } }
            client: { address: 192.0.2.11, overlays: { calico: \(client) } }
            paths: [host, calico]

        """
    }

    func load(_ text: String) throws -> (Inventory?, [String]) {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("cb-netns-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).yaml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        do { return (try loader.load(path: path), []) } catch let e as InputErrors {
            return (nil, e.diagnostics.map { "\($0.location.line):\($0.location.column): \($0.message)" })
        }
    }

    @Test("every kind of namespace, beside the plain form")
    func kinds() throws {
        let (inv, problems) = try load(inventory("{ address: 10.244.1.7, netns: \"container:bench_a.1\" }"))
        #expect(problems.isEmpty, "\(problems)")
        let p = try #require(inv?.pairs.first)
        #expect(p.server.overlays == ["calico": "10.244.1.7"] && p.server.overlayNamespaces == ["calico": .container("bench_a.1")])
        #expect(p.client.overlayNamespaces == ["calico": .pod(namespace: "default", name: "bench-b")])
        let (plain, none) = try load(inventory("10.244.1.7", "10.244.2.7"))
        #expect(none.isEmpty && plain?.pairs.first?.server.overlayNamespaces.isEmpty == true)
        #expect(OverlayNamespace.parse("netns:cbl-x-pod1") == .success(.named("cbl-x-pod1")))
        #expect(OverlayNamespace.parse("path:/proc/4242/ns/net") == .success(.path("/proc/4242/ns/net")))
        #expect(OverlayNamespace.parse("path:/var/run/netns/blue") == .success(.path("/var/run/netns/blue")))
    }

    @Test("bad namespaces are refused at their position, with what to write", arguments: [
        ("{ address: 10.244.1.7, netns: \"container:a;rm -rf /\" }",
         "7:86: bad container name 'a;rm -rf /': letters, digits, '_', '.' and '-' only, starting with a letter or digit (overlay 'calico')"),
        ("{ address: 10.244.1.7, netns: \"pod:Default/$(id)\" }",
         "7:86: bad pod 'Default/$(id)': give NAMESPACE/NAME, Kubernetes names (lowercase letters, digits, '-', '.') (overlay 'calico')"),
        ("{ address: 10.244.1.7, netns: \"netns:../etc\" }", "7:86: bad netns name '../etc': letters, digits, '_', '.' and '-' only (overlay 'calico')"),
        ("{ address: 10.244.1.7, netns: \"path:/etc/passwd\" }",
         "7:86: bad namespace path '/etc/passwd': give /proc/PID/ns/net or /var/run/netns/NAME (overlay 'calico')"),
        ("{ address: 10.244.1.7, netns: \"vm:x\" }", "7:86: unknown netns kind 'vm'; use container, pod, netns or path (overlay 'calico')"),
        ("{ address: 10.244.1.7, netns: bench }",
         "7:86: netns 'bench' needs a kind: container:NAME, pod:NAMESPACE/NAME, netns:NAME or path:/proc/PID/ns/net (overlay 'calico')"),
        ("{ netns: \"netns:blue\" }", "7:56: overlay 'calico' is missing 'address'"),
        ("{ address: 10.244.1.7, nets: \"netns:blue\" }", "7:79: unknown key 'nets' in overlay 'calico'; did you mean 'netns'?"),
        ("{ address: 10.244.1.999, netns: \"netns:blue\" }", "7:67: bad address '10.244.1.999' on overlay 'calico'; give this host's IP address on that overlay"),
    ])
    func bad(server: String, expected: String) throws {
        let (_, problems) = try load(inventory(server))
        #expect(problems == [expected])
    }
}
