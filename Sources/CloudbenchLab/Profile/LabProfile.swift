import Foundation

/// What a lab emulates: provider/type pairs with their goodput, run defaults and an optional overlay.
///
/// Profiles are data (`lab/profiles/NAME.yaml`); `LabProfileParser` reads them.
public struct LabProfile: Hashable, Sendable {
    /// A burst credit on a pair's links, like a burstable cloud instance's: `burst: { rate: PEAK, bytes: CREDIT }`.
    ///
    /// The link sends at `peak` while a `creditBytes` bucket lasts, then at the pair's `goodput`
    /// (tbf's `peakrate` and bucket). The bucket refills at the baseline and is refilled whole
    /// before each of the pair's `tcp_bw` cells (the lab's `before-cell` script, docs/lab.md).
    public struct BurstCredit: Hashable, Sendable {
        public var peak: Goodput
        /// The bucket, in bytes on the wire (Ethernet frames, as tbf counts them).
        public var creditBytes: Int

        public init(peak: Goodput, creditBytes: Int) {
            self.peak = peak
            self.creditBytes = creditBytes
        }

        /// Seconds of sending at `peak` before the bucket of a link with `baseline` goodput is empty.
        public func seconds(baseline: Goodput) -> Double {
            Double(creditBytes) / Double(peak.wireBytesPerSecond - baseline.wireBytesPerSecond)
        }

        /// The mean goodput between `from` and `to` seconds after sending starts with a full credit.
        public func averageGoodput(baseline: Goodput, from: Double, to: Double) -> Goodput {
            guard to > from else { return peak }
            let peakSeconds = max(0, min(to, seconds(baseline: baseline)) - from)
            let bytes = peak.bytesPerSecond * peakSeconds + baseline.bytesPerSecond * (to - from - peakSeconds)
            return Goodput(bytesPerSecond: bytes / (to - from))
        }
    }

    /// One pair of same-type instances: a server and a client, as the reference study measured.
    public struct Pair: Hashable, Sendable {
        public var name: String
        public var provider: String
        public var type: String
        /// The goodput of the link, client → server (`goodput:`, or `rate: { up: X, down: Y }`'s up).
        public var goodput: Goodput
        /// Server → client when it differs (`rate:`'s down): a link shaped differently each way,
        /// like an instance whose ingress and egress allowances differ. nil: `goodput` both ways.
        public var downGoodput: Goodput? = nil
        /// The provider region the pair stands for (`westeurope`, `us-east-1`), written into the
        /// inventory so records carry it and reports price the pair at that region's price; nil
        /// writes no region ("no region" in reports).
        public var region: String?
        /// Passed through to the inventory (`0.1207 EUR/h`) to override the provider catalog.
        public var price: String?
        /// The date that price held (`YYYY-MM-DD`), passed through as `price_as_of`.
        public var priceAsOf: String?
        /// Paths for this pair; nil means the run's paths plus the lab overlay.
        public var paths: [String]?
        /// Tests for this pair; nil means the run's tests.
        public var tests: [String]?
        /// A burst credit on both instances' links; nil for a steady link.
        public var burst: BurstCredit?
        /// Passed through to the inventory as the pair's `directions:`, `streams:` and `udp_rate: search`.
        public var directions: [String]? = nil
        public var streams: [Int]? = nil
        public var udpRateSearch = false
        /// `pps_limit: N`: each instance of the pair drops what it sends over N packets per
        /// second (nftables, `PacketRateLimit`), and its stand-in `ethtool` reports the drops as
        /// ENA's `pps_allowance_exceeded`; nil for no packet-rate limit.
        public var packetRateLimit: Int? = nil

        /// The goodput from `role`'s side to the other (a client sends up, a server down).
        public func goodput(sentBy role: LabInstance.Role) -> Goodput {
            role == .client ? goodput : downGoodput ?? goodput
        }

        public init(name: String, provider: String, type: String, goodput: Goodput,
                    price: String? = nil, priceAsOf: String? = nil, paths: [String]? = nil, region: String? = nil,
                    burst: BurstCredit? = nil) {
            self.name = name
            self.provider = provider
            self.type = type
            self.goodput = goodput
            self.price = price
            self.priceAsOf = priceAsOf
            self.paths = paths
            self.region = region
            self.burst = burst
        }
    }

    /// The `run:` block copied into the generated inventory, so demos tune runs in data.
    public struct RunDefaults: Hashable, Sendable {
        public var tests: [String] = ["tcp_bw", "tcp_lat"]
        public var duration: String = "10s"
        public var warmup: String = "2s"
        public var repetitions: Int = 3
        public var paths: [String] = ["host"]
        /// `udp_bw`'s offered rate (bytes/s), `http`'s object size and fetch count; nil keeps the inventory's defaults.
        public var udpRate: Int?
        public var httpSize: Int?
        public var httpCount: Int?
        /// Passed through as `run.sustained_after` (nil: the inventory's default).
        public var sustainedAfter: String?
        /// Passed through as `run.directions` and `run.streams` (nil: the inventory's defaults).
        public var directions: [String]?
        public var streams: [Int]?

        public init() {}
    }

    /// A kernel VXLAN mesh between all instances, declared as an external overlay like a CNI's.
    public struct Overlay: Hashable, Sendable {
        /// The path name in the inventory (`overlays: { NAME: address }`) and the device name.
        public var name: String
        public var vni: Int = 4242
        public var port: Int = 4789

        public init(name: String) { self.name = name }
    }

    public var name: String
    public var description: String
    public var run: RunDefaults
    public var overlay: Overlay?
    public var pairs: [Pair]
    /// Groups of the pairs' instances (`Group`), measured after the pairs.
    public var groups: [Group] = []

    public init(name: String, description: String = "", run: RunDefaults = RunDefaults(),
                overlay: Overlay? = nil, pairs: [Pair]) {
        self.name = name
        self.description = description
        self.run = run
        self.overlay = overlay
        self.pairs = pairs
    }

    /// The paths a pair is measured on: its own list, else the run's paths plus the overlay.
    public func paths(for pair: Pair) -> [String] {
        if let own = pair.paths { return own }
        var paths = run.paths
        if let overlay, !paths.contains(overlay.name) { paths.append(overlay.name) }
        return paths
    }
}

extension LabProfile {
    /// A group of the lab's instances measured together (the inventory's `groups:`), written into
    /// the lab's inventory by address: `server`/`clients` (fan_in), `client`/`servers` (fan_out),
    /// `client`/`middle`/`backends` (through), each an instance id (`PAIR-server`, `PAIR-client`).
    /// The instances are its pairs' own: the groups run after the pairs, on the same links.
    public struct Group: Hashable, Sendable {
        public var name: String
        public var shape: String
        public var provider: String
        public var type: String
        public var region: String?
        public var price: String?
        public var priceAsOf: String?
        /// fan_in's server, fan_out's client, through's (first) client.
        public var hub: String
        /// through: the clients after the first (`clients: [a, b, …]`).
        public var otherClients: [String] = []
        public var middle: String?
        /// fan_in's clients, fan_out's servers, through's backends.
        public var spokes: [String]
        public var sweep: [Int]?
        public var repetitions: Int?

        /// The inventory keys of the hub and the spokes for this shape.
        public var keys: (hub: String, spokes: String) {
            switch shape {
            case "fan_in": return ("server", "clients")
            case "fan_out": return ("client", "servers")
            default: return ("client", "backends")
            }
        }
    }
}
