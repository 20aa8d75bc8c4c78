import Foundation

/// One end of a veth pair: the namespace it lives in, its device name and its address.
public struct Endpoint: Hashable, Sendable {
    public let namespace: Namespace
    public let device: String
    /// The address without prefix length, e.g. `10.77.0.1`.
    public let address: String
}

/// veth pairs and traffic shaping between namespaces.
public enum Link {
    /// Joins two namespaces with a veth pair on one /24 and brings both ends up.
    ///
    /// `subnet` is the first three octets, e.g. `10.77.3`; the ends get `.1` and `.2`.
    /// Only a connected route exists afterwards: no default route is added anywhere.
    public static func veth(_ a: Namespace, _ b: Namespace, subnet: String, mtu: Int = 1500) throws -> (Endpoint, Endpoint) {
        let n = Counter.next()
        // Device names must fit in 15 bytes; they live only inside their namespaces.
        let tmpA = "cbv\(getpid() % 100000)a\(n)", tmpB = "cbv\(getpid() % 100000)b\(n)"
        try ProcessRunner.check(["ip", "link", "add", tmpA, "type", "veth", "peer", "name", tmpB])
        do {
            try ProcessRunner.check(["ip", "link", "set", tmpA, "netns", a.name, "name", "eth\(n)"])
            try ProcessRunner.check(["ip", "link", "set", tmpB, "netns", b.name, "name", "eth\(n)"])
        } catch {
            _ = try? ProcessRunner.check(["ip", "link", "delete", tmpA])
            throw error
        }
        let ea = Endpoint(namespace: a, device: "eth\(n)", address: "\(subnet).1")
        let eb = Endpoint(namespace: b, device: "eth\(n)", address: "\(subnet).2")
        for e in [ea, eb] {
            try e.namespace.run(["ip", "addr", "add", "\(e.address)/24", "dev", e.device])
            try e.namespace.run(["ip", "link", "set", e.device, "mtu", "\(mtu)", "up"])
        }
        return (ea, eb)
    }

    /// Caps what `endpoint` sends with a token bucket filter at `bytesPerSecond` on the wire.
    ///
    /// The rate counts Ethernet frames (14-byte header included), so TCP goodput at MTU 1500
    /// with timestamps is `bytesPerSecond × 1448 / 1514`.
    public static func shape(_ endpoint: Endpoint, bytesPerSecond: Int, burstBytes: Int? = nil) throws {
        let burst = burstBytes ?? max(32 * 1024, bytesPerSecond / 250)
        try endpoint.namespace.run([
            "tc", "qdisc", "replace", "dev", endpoint.device, "root", "tbf",
            "rate", "\(bytesPerSecond * 8)bit", "burst", "\(burst)", "latency", "50ms",
        ])
    }

    /// The bit rate to configure so that TCP goodput at MTU 1500 is `goodputBytesPerSecond`.
    public static func wireRate(forGoodput goodputBytesPerSecond: Double) -> Int {
        Int((goodputBytesPerSecond * 1514 / 1448).rounded())
    }
}
