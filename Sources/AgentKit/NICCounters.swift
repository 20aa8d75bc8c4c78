#if canImport(Glibc)
import Glibc
#endif
import Syscall

/// One NIC's counters at one moment: those of the device that carries the cell (the route to
/// the peer), from `ethtool -S` where it is installed and knows the device, else the kernel's
/// own `/sys/class/net/DEV/statistics`. Sampled with the host's CPU (`HostCounters`) when a
/// test starts and when it ends.
public struct NICCounters: Sendable, Equatable {
    public enum Source: String, Sendable { case ethtool, sysfs }

    public var device: String
    /// The driver (`ena`, `virtio_net`, `mlx5_core`, `hv_netvsc`, `veth`), or `unknown`.
    public var driver: String
    public var source: Source
    public var counters: [Counter]

    public struct Counter: Sendable, Equatable {
        public var name: String
        public var value: UInt64
        public init(_ name: String, _ value: UInt64) { self.name = name; self.value = value }
    }

    public init(device: String, driver: String, source: Source, counters: [Counter]) {
        self.device = device
        self.driver = driver
        self.source = source
        self.counters = counters
    }

    /// Why a side has no NIC counters; the cell goes on without them. A short code on the
    /// control line, a sentence in the record.
    public enum Absent: String, Sendable, Error {
        case noRoute = "no_route"
        case noDevice = "no_device"
        case unknownShape = "unknown_ethtool_shape"
        case unreadable = "unreadable_nic"
        /// A counter went backwards (driver reset) or the peer sent nonsense.
        case inconsistent = "inconsistent_nic"
        /// The peer agent sent none (an older agent).
        case notSent = "nic_not_sent"

        public var sentence: String {
            switch self {
            case .noRoute: return "the route to the peer could not be found"
            case .noDevice: return "no network device holds the address that carries the cell"
            case .unknownShape: return "ethtool -S printed output in a shape cloudbench does not know"
            case .unreadable: return "neither ethtool -S nor /sys/class/net statistics could be read"
            case .inconsistent: return "the NIC counters went backwards during the window (a driver reset?)"
            case .notSent: return "the agent on this host sent no NIC counters"
            }
        }
    }

    /// The kernel's device-wide loss counters read where `ethtool` is missing or knows nothing.
    public static let sysfsCounters = ["rx_dropped", "tx_dropped", "rx_errors", "tx_errors", "rx_missed_errors",
                                       "rx_fifo_errors", "tx_fifo_errors", "tx_carrier_errors"]

    /// The counters of the device that carries traffic to `peer`.
    public static func sample(toward peer: SocketAddress) -> Result<NICCounters, Absent> {
        CarrierDevice.toward(peer).flatMap { read(device: $0, driver: nil) }
    }

    /// The same device's counters again (the end of the window): its driver is not asked again.
    public func again() -> Result<NICCounters, Absent> {
        Self.read(device: device, driver: driver)
    }

    /// `ethtool -S DEV`'s kept counters (`EthtoolStats.kept`) and the kernel's own loss counters
    /// beside them (virtio_net and hv_netvsc count drops per queue only); the kernel's alone
    /// where `ethtool` is missing or has no statistics for the device (lo, veth without them).
    static func read(device: String, driver known: String?, sysfs: String = "/sys/class/net",
                     ethtool: String = "ethtool") -> Result<NICCounters, Absent> {
        guard EthtoolStats.validName(device) else { return .failure(.noDevice) }
        var kernel: [Counter] = []
        for name in sysfsCounters {
            guard let text = HostFacts.readFile("\(sysfs)/\(device)/statistics/\(name)") else { continue }
            guard let v = UInt64(text.trimmingSpaces) else { return .failure(.unreadable) }
            kernel.append(Counter(name, v))
        }
        if let out = BoundedCommand.run([ethtool, "-S", device]), out.status == 0 {
            guard let all = EthtoolStats.parse(out.stdout) else { return .failure(.unknownShape) }
            let kept = EthtoolStats.kept(all).map { Counter($0.name, $0.value) }
            let driver = known ?? BoundedCommand.run([ethtool, "-i", device]).flatMap { EthtoolStats.driver($0.stdout) }
                ?? sysfsDriver(device, sysfs: sysfs)
            let extra = kernel.filter { k in !kept.contains { $0.name == k.name } }
            return .success(NICCounters(device: device, driver: driver, source: .ethtool, counters: kept + extra))
        }
        guard !kernel.isEmpty else { return .failure(.unreadable) }
        return .success(NICCounters(device: device, driver: known ?? sysfsDriver(device, sysfs: sysfs), source: .sysfs, counters: kernel))
    }

    /// The last part of `/sys/class/net/DEV/device/driver`'s link; `unknown` for devices without one (veth, lo).
    static func sysfsDriver(_ device: String, sysfs: String) -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("\(sysfs)/\(device)/device/driver", &buffer, buffer.count - 1)
        guard n > 0 else { return "unknown" }
        let target = String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let name = target.split(separator: "/").last.map(String.init) ?? ""
        return EthtoolStats.validName(name) ? name : "unknown"
    }
}

/// What a NIC's counters did over one test: the increase of every counter read at both ends.
public struct NICWindow: Sendable, Equatable {
    public var device: String
    public var driver: String
    public var source: NICCounters.Source
    public var deltas: [NICCounters.Counter]

    public init(device: String, driver: String, source: NICCounters.Source, deltas: [NICCounters.Counter]) {
        self.device = device
        self.driver = driver
        self.source = source
        self.deltas = deltas
    }

    /// The window between two samples; `.inconsistent` when the device changed or a counter went backwards.
    public static func between(_ a: Result<NICCounters, NICCounters.Absent>,
                               _ b: Result<NICCounters, NICCounters.Absent>) -> Result<NICWindow, NICCounters.Absent> {
        switch (a, b) {
        case (.failure(let e), _), (_, .failure(let e)): return .failure(e)
        case (.success(let x), .success(let y)):
            guard x.device == y.device, x.source == y.source else { return .failure(.inconsistent) }
            var deltas: [NICCounters.Counter] = []
            for c in y.counters {
                guard let before = x.counters.first(where: { $0.name == c.name }) else { continue }
                guard c.value >= before.value, c.value - before.value < 1 << 53 else { return .failure(.inconsistent) }
                deltas.append(.init(c.name, c.value - before.value))
            }
            return .success(NICWindow(device: y.device, driver: y.driver, source: y.source, deltas: deltas))
        }
    }

    /// The `HOST` line's fields: `nic_device`, `nic_driver`, `nic_source` and one `nic.NAME=DELTA`
    /// per counter, or `nic_absent=CODE`.
    public static func fields(_ w: Result<NICWindow, NICCounters.Absent>) -> [(String, String)] {
        switch w {
        case .failure(let why): return [("nic_absent", why.rawValue)]
        case .success(let w):
            return [("nic_device", w.device), ("nic_driver", w.driver), ("nic_source", w.source.rawValue)]
                + w.deltas.map { ("nic.\($0.name)", String($0.value)) }
        }
    }

    /// Parses a peer's `HOST` fields; nil when it sent no NIC fields (an older agent).
    public static func parse(fields f: [String: String]) -> Result<NICWindow, NICCounters.Absent>? {
        if let code = f["nic_absent"] { return .failure(NICCounters.Absent(rawValue: code) ?? .inconsistent) }
        guard let device = f["nic_device"] else { return nil }
        guard EthtoolStats.validName(device), let driver = f["nic_driver"], EthtoolStats.validName(driver),
              let source = f["nic_source"].flatMap(NICCounters.Source.init(rawValue:)) else { return .failure(.inconsistent) }
        var deltas: [NICCounters.Counter] = []
        for (k, v) in f.sorted(by: { $0.key < $1.key }) where k.hasPrefix("nic.") {
            let name = String(k.dropFirst(4))
            guard EthtoolStats.validName(name), let n = UInt64(v), n < 1 << 53, deltas.count < EthtoolStats.maximumKept + NICCounters.sysfsCounters.count
            else { return .failure(.inconsistent) }
            deltas.append(.init(name, n))
        }
        return .success(NICWindow(device: device, driver: driver, source: source, deltas: deltas))
    }

    /// This side's `detail.nic.SIDE` object: `{"driver", "device", "source", "deltas": {...}}`,
    /// or `{"absent": sentence}`.
    public static func json(_ w: Result<NICWindow, NICCounters.Absent>) -> JSON {
        switch w {
        case .failure(let why): return .object([("absent", .string(why.sentence))])
        case .success(let w):
            return .object([("driver", .string(w.driver)), ("device", .string(w.device)), ("source", .string(w.source.rawValue)),
                             ("deltas", .object(w.deltas.map { ($0.name, .int(Int($0.value))) }))])
        }
    }
}

extension JSON {
    /// This object with `nic.SIDE` set to `value` (`nic` created when missing); a non-object stays as it is.
    func addingNIC(side: String, _ value: JSON) -> JSON {
        guard case .object(var top) = self else { return self }
        var nic: [(String, JSON)] = []
        let at = top.firstIndex { $0.0 == "nic" }
        if let at, case .object(let o) = top[at].1 { nic = o }
        if let i = nic.firstIndex(where: { $0.0 == side }) { nic[i].1 = value } else { nic.append((side, value)) }
        if let at { top[at].1 = .object(nic) } else { top.append(("nic", .object(nic))) }
        return .object(top)
    }
}

/// The NIC counters of a cell made of several windows (a UDP rate search's probes), added up
/// per side: the probes above the limit are the ones whose allowance counters grow, so the
/// search's `detail.nic` covers every probe, not only the one whose figures stand.
enum NICSum {
    /// `{"client": …, "server": …}` summed over `probes` (each probe's `nic` object); nil when
    /// no probe carried one.
    static func over(_ probes: [JSON?]) -> JSON? {
        let nics = probes.compactMap { $0 }
        guard !nics.isEmpty else { return nil }
        guard nics.count == probes.count else { return .object(["client", "server"].map { ($0, absent(.notSent)) }) }
        return .object(["client", "server"].map { side in (side, sum(nics.map { $0[side] })) })
    }

    static func absent(_ why: NICCounters.Absent) -> JSON { .object([("absent", .string(why.sentence))]) }

    /// One side over every probe: the first probe's reason when one has no counters; a change of
    /// device between probes is inconsistent; a counter is summed when every probe has it.
    static func sum(_ sides: [JSON?]) -> JSON {
        guard let first = sides.first ?? nil else { return absent(.notSent) }
        for s in sides {
            guard let s else { return absent(.notSent) }
            if s["absent"] != nil { return s }
        }
        for key in ["driver", "device", "source"] where sides.contains(where: { $0?[key] != first[key] }) { return absent(.inconsistent) }
        guard case .object(let names)? = first["deltas"] else { return absent(.inconsistent) }
        var deltas: [(String, JSON)] = []
        for (name, _) in names {
            var total = 0
            var everywhere = true
            for s in sides {
                guard case .int(let v)? = s?["deltas"]?[name], v >= 0, v < 1 << 53 else { everywhere = false; break }
                total += v
            }
            if everywhere { deltas.append((name, .int(total))) }
        }
        return .object([("driver", first["driver"] ?? .null), ("device", first["device"] ?? .null),
                        ("source", first["source"] ?? .null), ("deltas", .object(deltas))])
    }
}
