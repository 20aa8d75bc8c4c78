import Foundation
import Testing
@testable import CloudbenchCore
@testable import CloudbenchOrchestrator

@Suite("Datapath detection")
struct DatapathTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/datapath").path

    @Test("each CNI's devices name its datapath and product", arguments: [
        ("flannel-vxlan", Datapath(kind: .vxlan, device: "flannel.1", vni: 1, port: 8472, encapOverheadBytes: 50, product: "Flannel")),
        ("flannel-udp", Datapath(kind: .tunUserspace, device: "flannel0", port: 8285, encapOverheadBytes: 28, product: "Flannel")),
        ("flannel-wg", Datapath(kind: .wireguard, device: "flannel-wg", port: 51820, encapOverheadBytes: 60, product: "Flannel")),
        ("calico-vxlan", Datapath(kind: .vxlan, device: "vxlan.calico", vni: 4096, port: 4789, encapOverheadBytes: 50, product: "Calico")),
        ("calico-ipip", Datapath(kind: .ipip, device: "tunl0", encapOverheadBytes: 20, product: "Calico")),
        ("calico-native", Datapath(kind: .native, device: "eth0", encapOverheadBytes: 0, product: "Calico")),
        ("host-native", Datapath(kind: .native, device: "eth0", encapOverheadBytes: 0)),
        ("cilium-vxlan", Datapath(kind: .vxlan, device: "cilium_vxlan", vni: 2, port: 8472, encapOverheadBytes: 50, product: "Cilium")),
        ("cilium-geneve", Datapath(kind: .geneve, device: "cilium_geneve", port: 6081, encapOverheadBytes: 50, product: "Cilium")),
        ("weave-fastdp", Datapath(kind: .vxlan, device: "vxlan-6784", port: 6784, encapOverheadBytes: 50, product: "Weave")),
        ("weave-sleeve", Datapath(kind: .tunUserspace, device: "weave", port: 6783, product: "Weave")),
    ])
    func fixture(name: String, expected: Datapath) throws {
        let text = try String(contentsOfFile: "\(Self.fixtures)/\(name).txt", encoding: .utf8)
        #expect(DatapathProbe.detect(text) == expected)
    }

    @Test("output that is not the probe's is unknown, never a crash", arguments: [
        "", "---\n---\n", "ip: command not found", "[]\n---\n[]\n---\n", "[{\"dst\":\"1.2.3.4\"}]\n---\n[]\n",
    ])
    func garbage(text: String) {
        #expect(DatapathProbe.detect(text).kind == .unknown)
    }

    @Test("the record's datapath object has every key, null when not known")
    func json() {
        let j = Datapath(kind: .ipip, device: "tunl0", encapOverheadBytes: 20, product: "Calico").json
        #expect(j == .object(["kind": .string("ipip"), "device": .string("tunl0"), "vni": .null, "port": .null,
                              "encap_overhead_bytes": .number(20), "product": .string("Calico")]))
        #expect(Datapath(kind: .tunUserspace, product: "Weave").label == "tun-userspace (Weave)")
    }

    @Test("the probe command checks the route's device name before using it")
    func command() {
        let c = DatapathProbe.command(to: "10.244.1.7")
        #expect(c.hasPrefix("r=$(ip -j route get 10.244.1.7) || exit 1;"))
        #expect(c.contains("*[!A-Za-z0-9._@-]*) echo '[]';;"))
    }
}

extension DatapathTests {
    @Test("the host path's native route names no CNI, even on a Calico node")
    func hostPath() throws {
        let text = try String(contentsOfFile: "\(Self.fixtures)/calico-native.txt", encoding: .utf8)
        #expect(DatapathProbe.detect(text, hostPath: true) == Datapath(kind: .native, device: "eth0", encapOverheadBytes: 0))
    }
}
