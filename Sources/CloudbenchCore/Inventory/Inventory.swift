import Foundation

/// Where a cell's traffic goes: the hosts' own network, an overlay cloudbench builds, or the
/// user's own overlay.
public enum PathKind: Hashable, Sendable {
    /// The test IPs, no overlay.
    case host
    /// A kernel VXLAN tunnel cloudbench creates for the cell (Flannel VXLAN, Weave fast datapath).
    case vxlan
    /// User-space UDP encapsulation through a TUN device (Flannel UDP, Weave sleeve).
    case udp
    /// What `docker run -p` builds on each host: the agent in a container's network namespace
    /// behind a Linux bridge and a veth, MASQUERADE out, the agent's port published on the
    /// test IP by DNAT. The cost containers pay before any overlay.
    case docker
    /// An overlay the user already runs, between the hosts' `overlays` addresses.
    case external(String)

    public init(name: String) {
        switch name {
        case "host": self = .host
        case "vxlan": self = .vxlan
        case "udp": self = .udp
        case "docker": self = .docker
        default: self = .external(name)
        }
    }

    public var name: String {
        switch self {
        case .host: return "host"
        case .vxlan: return "vxlan"
        case .udp: return "udp"
        case .docker: return "docker"
        case .external(let n): return n
        }
    }

    /// The paths cloudbench sets up itself (and `host`): no overlay of the user's may take these names.
    public static let builtIn: [PathKind] = [.host, .vxlan, .udp, .docker]

    /// Built-in overlays change interfaces on the hosts, which needs root.
    public var needsRoot: Bool { self == .vxlan || self == .udp || self == .docker }
}

/// How to reach hosts over SSH; the inventory's `ssh:` defaults, overridden per host.
public struct SSHSettings: Hashable, Sendable {
    public var user: String
    public var port: Int
    /// A private key file; nil means ssh-agent (`SSH_AUTH_SOCK`).
    public var identity: String?
    /// The name of an environment variable holding the key's passphrase (never the passphrase).
    public var identityPassphraseEnv: String?
    public var knownHosts: String
    public var sudo: Bool
    /// `[user@]host[:port]` of a jump host reached first.
    public var jump: String?
    public var connectTimeout: DurationValue
    public var keepalive: DurationValue

    public static let defaults = SSHSettings(
        user: "root", port: 22, identity: nil, identityPassphraseEnv: nil,
        knownHosts: "~/.ssh/known_hosts", sudo: false, jump: nil,
        connectTimeout: DurationValue(milliseconds: 10_000), keepalive: DurationValue(milliseconds: 15_000))
}

/// One instance of a pair.
public struct Instance: Hashable, Sendable {
    public enum Role: String, Sendable, Hashable { case server, client }

    public var role: Role
    /// Where SSH goes (a name or an IP).
    public var address: String
    /// The IP that carries the test traffic.
    public var testIP: String
    /// External overlay name → this host's address on it.
    public var overlays: [String: String]
    /// External overlay name → the network namespace its address lives in, when not the host's
    /// own (`overlays: { calico: { address: IP, netns: "pod:default/bench-a" } }`).
    public var overlayNamespaces: [String: OverlayNamespace] = [:]
    /// The provider's zone the instance runs in (`zone:`), e.g. `westeurope-1`; nil when not given.
    public var zone: String? = nil
    /// The effective SSH settings (defaults with this host's overrides applied).
    public var ssh: SSHSettings

    /// `address:port`, the identity of the machine for scheduling.
    public var endpoint: String { "\(address):\(ssh.port)" }

    /// A host named under `.invalid` (RFC 2606) stands for a machine that is not to be reached,
    /// e.g. in an inventory describing a published study; cloudbench never connects to one.
    public var isPlaceholder: Bool { address.hasSuffix(".invalid") }
}

/// Two instances of one type measured against each other.
public struct Pair: Hashable, Sendable {
    public var name: String
    public var provider: String
    public var type: String
    public var region: String
    /// A `Placement` name (`same-zone`, `cross-zone`, `placement-group`): as written (aliases
    /// read as the new word), else derived from the hosts' zones; nil when neither says.
    public var placement: String?
    /// The hourly price given in the inventory, overriding the catalog's.
    public var price: Money?
    /// The date that price was valid (`YYYY-MM-DD`), for conversion rates and staleness.
    public var priceAsOf: String?
    public var server: Instance
    public var client: Instance
    public var paths: [PathKind]
    public var tests: [TestKind]
    public var repetitions: Int
    /// `directions:` (run's, or the pair's own): each its own cell of `tcp_bw` and `udp_bw`.
    public var directions: [Direction] = [.clientToServer]
    /// `streams:` (a number or a list): each count its own `tcp_bw` cell.
    public var streams: [Int] = [1]
    /// `udp_rate: search`: `udp_bw` and `udp_pps` search for the highest offered rate with loss under 1 %.
    public var udpRateSearch = false
}

/// How each cell runs.
public struct RunSettings: Hashable, Sendable {
    public var tests: [TestKind] = [.tcpBandwidth, .tcpLatency]
    public var duration = DurationValue(milliseconds: 10_000)
    public var warmup = DurationValue(milliseconds: 2_000)
    public var repetitions = 3
    public var paths: [PathKind] = [.host]
    /// Parallel TCP streams for `tcp_bw`: each count its own cell (a sweep when more than one).
    public var streams: [Int] = [1]
    /// `directions:`: each its own cell of `tcp_bw` and `udp_bw`.
    public var directions: [Direction] = [.clientToServer]
    /// `udp_rate: search`: `udp_bw` and `udp_pps` find the highest offered rate with loss under 1 %
    /// instead of offering `udpRate` or `udpPacketRate` (which is then where the search starts).
    public var udpRateSearch = false
    /// Bytes per write for `tcp_bw` (qperf's default message size is 64 KiB).
    public var messageSize = 65_536
    /// Target send rate for `udp_bw`, in bytes per second.
    public var udpRate: Int = 100_000_000
    /// Target send rate for `udp_pps`, in datagrams per second (`udp_pps_rate`).
    public var udpPacketRate: Int = 100_000
    /// Payload bytes of each `udp_pps` datagram (`udp_pps_payload`).
    public var udpPacketPayload: Int = 64
    /// Object size and fetch count for `http` (the reference study used 200 KB and 400 KB).
    public var httpSize = 200_000
    public var httpCount = 100
    /// How long a burstable type's `tcp_bw` must run for its credit to run out inside the
    /// measured window (`compare --sustained` runs them this long).
    public var sustainedAfter = DurationValue(milliseconds: 300_000)
    /// The TCP/UDP port the agent listens on.
    public var agentPort = 5201

    public init() {}
}

/// An inventory, schema 1: which pairs to measure, how to reach them and how to run.
public struct Inventory: Sendable {
    public var file: String
    public var name: String
    public var currency: String
    public var ssh: SSHSettings
    public var run: RunSettings
    public var pairs: [Pair]
    /// Hosts measured together (`groups:`): fan-in, fan-out, through a middle.
    public var groups: [HostGroup] = []
    /// Agent binaries per architecture (`uname -m`), for hosts that are not this machine's kind.
    public var agentBinaries: [String: String]
    /// Things that are accepted but should change (an old placement name), as `file:line:col`.
    public var warnings: [Diagnostic] = []

    /// `warnings` as the lines a command prints on standard error: `file:line:col: warning: message`.
    public var warningLines: [String] {
        warnings.map { "\($0.location.file):\($0.location.line):\($0.location.column): warning: \($0.message)" }
    }

    /// The inventory's prices as report overrides, keyed by pair name.
    public var priceOverrides: [String: HourlyPrice] {
        var out: [String: HourlyPrice] = [:]
        for p in pairs {
            guard let money = p.price else { continue }
            out[p.name] = HourlyPrice(money: money, region: p.region.isEmpty ? nil : p.region, status: .inventory,
                                      source: "set in \((file as NSString).lastPathComponent)",
                                      asOf: p.priceAsOf ?? fileDate)
        }
        for g in groups {
            guard let money = g.price else { continue }
            out[g.name] = HourlyPrice(money: money, region: g.region.isEmpty ? nil : g.region, status: .inventory,
                                      source: "set in \((file as NSString).lastPathComponent)",
                                      asOf: g.priceAsOf ?? fileDate)
        }
        return out
    }

    /// The inventory file's modification day, the date of a price given without `price_as_of`.
    var fileDate: String {
        let attrs = try? FileManager.default.attributesOfItem(atPath: file)
        let date = (attrs?[.modificationDate] as? Date) ?? Date()
        return String(ISO8601DateFormatter().string(from: date).prefix(10))
    }

    /// Every distinct host, in inventory order: the pairs', then the groups'.
    public var hosts: [Instance] {
        var seen: Set<String> = []
        return (pairs.flatMap { [$0.server, $0.client] } + groups.flatMap(\.hosts)).filter { seen.insert($0.endpoint).inserted }
    }
}
