/// The rule that opens one port, said the way each provider's console says it.
public struct FirewallRule: Sendable, Equatable {
    public enum Proto: String, Sendable { case tcp = "TCP", udp = "UDP" }
    public var proto: Proto
    public var port: Int
    /// Where the traffic comes from (the prober's test address).
    public var source: String

    public init(proto: Proto, port: Int, source: String) {
        self.proto = proto
        self.port = port
        self.source = source
    }

    var cidr: String { source.contains(":") ? "\(source)/128" : "\(source)/32" }

    /// The rule in one provider's terms; nil for a provider cloudbench has no words for.
    public func advice(provider: String) -> String? {
        switch provider.lowercased() {
        case "aws":
            return "AWS: add an inbound rule to its security group: Custom \(proto.rawValue), port \(port), source \(cidr)"
        case "azure":
            return "Azure: add an inbound security rule to its NSG: Allow \(proto.rawValue), destination port \(port), source \(cidr)"
        case "digitalocean":
            return "DigitalOcean: add an inbound rule to its cloud firewall: \(proto.rawValue) \(port), sources \(cidr)"
        default:
            return nil
        }
    }

    /// The pair's provider's wording, or every provider's when cloudbench does not know it.
    public func advice(for provider: String) -> String {
        if let one = advice(provider: provider) { return one }
        return "open inbound \(proto.rawValue) \(port) from \(cidr) (" + ["aws", "azure", "digitalocean"].compactMap { advice(provider: $0) }
            .joined(separator: "; ") + ")"
    }
}
