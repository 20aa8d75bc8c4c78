import CloudbenchCore

/// What carried a path's packets off the sending host: the record's `detail.datapath`.
///
/// Judged on the host where the packet leaves, from the route to the peer and that device's
/// kind (`DatapathProbe`): a silent fallback (Weave's sleeve instead of its fast datapath) changes
/// the answer by 3×, so every record says which one it saw.
public struct Datapath: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        case native, vxlan, geneve, ipip, wireguard
        case tunUserspace = "tun-userspace"
        case bridgeNAT = "bridge-nat"
        case unknown
    }

    public var kind: Kind
    /// The interface the route leaves through.
    public var device: String?
    /// The VXLAN/Geneve network identifier, when the device says.
    public var vni: Int?
    /// The encapsulation's UDP port.
    public var port: Int?
    /// Bytes each packet carries on top of its own (outer headers), for an IPv4 underlay.
    public var encapOverheadBytes: Int?
    /// Flannel, Weave, Calico, Cilium or cloudbench, when the names say so.
    public var product: String?

    public init(kind: Kind, device: String? = nil, vni: Int? = nil, port: Int? = nil, encapOverheadBytes: Int? = nil,
                product: String? = nil) {
        self.kind = kind
        self.device = device
        self.vni = vni
        self.port = port
        self.encapOverheadBytes = encapOverheadBytes
        self.product = product
    }

    /// `kind`, or `kind (product)`: what the report shows per path.
    public var label: String { product.map { "\(kind.rawValue) (\($0))" } ?? kind.rawValue }

    public var json: JSONValue {
        func num(_ v: Int?) -> JSONValue { v.map { .number(Double($0)) } ?? .null }
        return .object(["kind": .string(kind.rawValue), "device": device.map(JSONValue.string) ?? .null, "vni": num(vni),
                        "port": num(port), "encap_overhead_bytes": num(encapOverheadBytes),
                        "product": product.map(JSONValue.string) ?? .null])
    }
}
