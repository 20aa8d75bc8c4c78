import CloudbenchCore

/// Finds the datapath from what one shell command prints on the sending host: the route to the
/// peer (`ip -j route get`), that device's details (`ip -d -j link show dev`), and the names of
/// the host's interfaces (which tell Calico's `cali*`, Cilium's `cilium_*` and Weave's
/// `vxlan-6784` apart). `detect` is pure: tested on recorded output (Fixtures/datapath).
public enum DatapathProbe {
    /// Interface names read, at most (a node with thousands of pods still gives a bounded answer).
    static let maxNames = 4096

    /// The command: three parts separated by `---` lines. The device name is checked before use.
    public static func command(to address: String) -> String {
        "r=$(ip -j route get \(shellWord(address))) || exit 1; echo \"$r\"; echo ---; "
            + "d=$(echo \"$r\" | sed -n 's/.*\"dev\":\"\\([^\"]*\\)\".*/\\1/p'); "
            + "case \"$d\" in ''|*[!A-Za-z0-9._@-]*) echo '[]';; *) ip -d -j link show dev \"$d\";; esac; echo ---; "
            + "ls /sys/class/net | head -n \(maxNames)"
    }

    static func shellWord(_ s: String) -> String {
        s.allSatisfy { $0.isHexDigit || $0 == "." || $0 == ":" } ? s : "'" + s.replacingOccurrences(of: "'", with: "") + "'"
    }

    /// The datapath `output` shows; `.unknown` when it cannot be read.
    /// - Parameter hostPath: the peer is the other host itself, not a pod or container: a native
    ///   route then belongs to no CNI, whatever interfaces the host has.
    public static func detect(_ output: String, hostPath: Bool = false) -> Datapath {
        let parts = output.components(separatedBy: "\n---\n")
        guard parts.count >= 2, let route = (try? JSONValue.parse(parts[0]))?.firstElement,
              let device = route["dev"]?.string else { return Datapath(kind: .unknown) }
        let link = (try? JSONValue.parse(parts[1]))?.firstElement
        let names = Set(parts.count > 2 ? parts[2].split(separator: "\n").prefix(maxNames).map(String.init) : [])
        var found = detect(device: device, gateway: route["gateway"]?.string, link: link, names: names)
        if hostPath && found.kind == .native { found.product = nil }
        return found
    }

    static func int(_ v: JSONValue?) -> Int? { v?.double.flatMap { $0 >= 0 && $0 <= 16_777_215 ? Int($0) : nil } }

    /// One rule per product and kind, the product's own device names first.
    static func detect(device: String, gateway: String?, link: JSONValue?, names: Set<String>) -> Datapath {
        let info = link?["linkinfo"]
        let kindName = info?["info_kind"]?.string
        let data = info?["info_data"]
        let vni = int(data?["id"]), port = int(data?["port"])
        let hasCalico = names.contains { $0.hasPrefix("cali") } || names.contains("vxlan.calico")
        let hasCilium = names.contains("cilium_host")

        switch device {
        case "flannel.1":
            return Datapath(kind: .vxlan, device: device, vni: vni ?? 1, port: port ?? 8472, encapOverheadBytes: 50, product: "Flannel")
        case "flannel0":
            return Datapath(kind: .tunUserspace, device: device, port: 8285, encapOverheadBytes: 28, product: "Flannel")
        case "flannel-wg":
            return Datapath(kind: .wireguard, device: device, port: 51820, encapOverheadBytes: 60, product: "Flannel")
        case "vxlan.calico":
            return Datapath(kind: .vxlan, device: device, vni: vni ?? 4096, port: port ?? 4789, encapOverheadBytes: 50, product: "Calico")
        case "cilium_vxlan":
            return Datapath(kind: .vxlan, device: device, vni: vni, port: port ?? 8472, encapOverheadBytes: 50, product: "Cilium")
        case "cilium_geneve":
            return Datapath(kind: .geneve, device: device, vni: vni, port: port ?? 6081, encapOverheadBytes: 50, product: "Cilium")
        case "cilium_host":
            // Cilium routes every remote pod through cilium_host; its BPF programs encapsulate.
            if names.contains("cilium_vxlan") { return Datapath(kind: .vxlan, device: "cilium_vxlan", port: 8472, encapOverheadBytes: 50, product: "Cilium") }
            if names.contains("cilium_geneve") { return Datapath(kind: .geneve, device: "cilium_geneve", port: 6081, encapOverheadBytes: 50, product: "Cilium") }
            return Datapath(kind: .native, device: device, encapOverheadBytes: 0, product: "Cilium")
        case "weave":
            // Weave's bridge: the fast datapath (kernel VXLAN on 6784) when its device exists,
            // otherwise the sleeve (the weaver process, in user space, on UDP 6783).
            if names.contains("vxlan-6784") {
                return Datapath(kind: .vxlan, device: "vxlan-6784", port: 6784, encapOverheadBytes: 50, product: "Weave")
            }
            return Datapath(kind: .tunUserspace, device: device, port: 6783, encapOverheadBytes: nil, product: "Weave")
        case RemoteLayout.vxlanDevice:
            return Datapath(kind: .vxlan, device: device, vni: vni ?? RemoteLayout.vxlanID, port: port ?? RemoteLayout.vxlanPort,
                            encapOverheadBytes: 50, product: "cloudbench")
        case RemoteLayout.tunDevice:
            return Datapath(kind: .tunUserspace, device: device, port: RemoteLayout.tunnelPort, encapOverheadBytes: 28, product: "cloudbench")
        default:
            break
        }
        switch kindName {
        case "vxlan":
            return Datapath(kind: .vxlan, device: device, vni: vni, port: port, encapOverheadBytes: 50, product: hasCalico ? "Calico" : nil)
        case "geneve":
            return Datapath(kind: .geneve, device: device, vni: vni, port: port, encapOverheadBytes: 50)
        case "ipip":
            return Datapath(kind: .ipip, device: device, encapOverheadBytes: 20, product: hasCalico ? "Calico" : nil)
        case "wireguard":
            return Datapath(kind: .wireguard, device: device, encapOverheadBytes: 60)
        case "tun":
            return Datapath(kind: .tunUserspace, device: device)
        case nil, "veth", "bridge", "vlan", "bond", "macvlan", "ipvlan", "team":
            // The host's own interface (a VM's NIC, a bridge on bare metal, the lab's veth): no
            // encapsulation. Calico and Cilium in native-routing mode look like this; their
            // interfaces name them.
            return Datapath(kind: .native, device: device, encapOverheadBytes: 0,
                            product: hasCilium ? "Cilium" : hasCalico ? "Calico" : nil)
        default:
            return Datapath(kind: .unknown, device: device)
        }
    }
}

extension JSONValue {
    /// The first element of an array.
    var firstElement: JSONValue? { if case .array(let a) = self { return a.first }; return nil }
}
