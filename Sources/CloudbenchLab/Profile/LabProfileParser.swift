import CloudbenchCore
import Foundation
import NetNS
import Yams

/// Reads a lab profile from YAML and reports mistakes as `file:line:column: sentence`.
public enum LabProfileParser {
    /// Built-in path names; an overlay may not take one of them.
    static let builtinPaths = Set(PathKind.builtIn.map(\.name))

    /// Loads and validates the profile at `path`.
    public static func load(path: String) throws -> LabProfile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LabError.usage("\(path): cannot read the lab profile")
        }
        return try parse(String(decoding: data, as: UTF8.self), source: path)
    }

    /// Parses profile text; `source` names it in error messages.
    public static func parse(_ text: String, source: String) throws -> LabProfile {
        let root: Node
        do {
            // The same door as inventories and catalogs: nesting limit, positions.
            guard let node = try YAMLDocument.compose(text, file: source) else {
                throw LabError.usage("\(source): the lab profile is empty")
            }
            root = node
        } catch let error as LabError {
            throw error
        } catch {
            throw LabError.usage("\(error)")
        }
        let r = Reader(source: source)
        let top = try r.mapping(root, keys: ["name", "description", "run", "overlay", "pairs", "groups"], what: "the profile")

        let name = try r.string(top, "name", required: true, at: root)!
        try r.check(name, matches: #"^[a-z0-9][a-z0-9._-]*$"#, node: top["name"]!, what: "profile name")
        var profile = LabProfile(name: name, description: try r.string(top, "description", at: root) ?? "", pairs: [])

        if let runNode = top["run"] {
            let run = try r.mapping(runNode, keys: ["tests", "duration", "warmup", "repetitions", "paths", "sustained_after", "udp_rate",
                                                    "http_size", "http_count", "directions", "streams"], what: "run")
            profile.run.directions = try Self.directions(run, r)
            profile.run.streams = try Self.streams(run, r)
            if let tests = try r.strings(run, "tests") { profile.run.tests = tests }
            for (key, range) in [("duration", InventoryLoader.Limits.duration), ("warmup", InventoryLoader.Limits.warmup)] {
                guard let d = try r.string(run, key, at: runNode), let node = run[key] else { continue }
                try r.check(d, matches: durationPattern, node: node, what: key)
                guard let value = DurationValue.parse(d), range.contains(value.seconds) else {
                    throw r.error(node, "\(key) must be from \(InventoryLoader.Limits.describe(range)) seconds, not '\(d)'")
                }
                if key == "duration" { profile.run.duration = d } else { profile.run.warmup = d }
            }
            if let n = run["repetitions"] {
                let range = InventoryLoader.Limits.repetitions
                guard let v = n.int, range.contains(v) else {
                    throw r.error(n, "repetitions must be a whole number from \(range.lowerBound) to \(range.upperBound)")
                }
                profile.run.repetitions = v
            }
            if let p = try r.strings(run, "paths") { profile.run.paths = p }
            if let s = try r.string(run, "sustained_after", at: runNode) {
                try r.check(s, matches: durationPattern, node: run["sustained_after"]!, what: "sustained_after")
                profile.run.sustainedAfter = s
            }
            // Passed through to the inventory, which checks them again; the ranges are the inventory's.
            for (key, range) in [("udp_rate", 1000...100_000_000_000), ("http_size", 1...1_000_000_000), ("http_count", 1...1_000_000)] {
                guard let n = run[key] else { continue }
                guard let v = n.int, range.contains(v) else {
                    throw r.error(n, "\(key) must be a whole number from \(range.lowerBound) to \(range.upperBound)")
                }
                switch key {
                case "udp_rate": profile.run.udpRate = v
                case "http_size": profile.run.httpSize = v
                default: profile.run.httpCount = v
                }
            }
        }

        if let overlayNode = top["overlay"] {
            let o = try r.mapping(overlayNode, keys: ["name", "vni", "port"], what: "overlay")
            let oname = try r.string(o, "name", required: true, at: overlayNode)!
            // The name is also the VXLAN device name, which Linux limits to 15 bytes.
            try r.check(oname, matches: #"^[a-z][a-z0-9]{0,14}$"#, node: o["name"]!, what: "overlay name")
            if builtinPaths.contains(oname) {
                throw r.error(o["name"]!, "overlay name '\(oname)' is a built-in path; choose another, e.g. 'labnet'")
            }
            var overlay = LabProfile.Overlay(name: oname)
            if let v = o["vni"] {
                guard let vni = v.int, (1...16_777_215).contains(vni) else { throw r.error(v, "vni must be between 1 and 16777215") }
                overlay.vni = vni
            }
            if let p = o["port"] {
                guard let port = p.int, (1...65535).contains(port) else { throw r.error(p, "port must be between 1 and 65535") }
                overlay.port = port
            }
            profile.overlay = overlay
        }

        guard let pairsNode = top["pairs"], let seq = pairsNode.sequence, !seq.isEmpty else {
            throw r.error(top["pairs"] ?? root, "the profile needs a non-empty list `pairs`")
        }
        var seen = Set<String>()
        for item in seq {
            let p = try r.mapping(item, keys: ["name", "provider", "type", "goodput", "price", "price_as_of", "paths", "region", "burst",
                                               "tests", "rate", "directions", "streams", "udp_rate", "pps_limit"], what: "a pair")
            let pname = try r.string(p, "name", required: true, at: item)!
            try r.check(pname, matches: #"^[a-z0-9][a-z0-9.-]{0,30}$"#, node: p["name"]!, what: "pair name")
            guard seen.insert(pname).inserted else { throw r.error(p["name"]!, "pair name '\(pname)' appears twice") }
            // `goodput: X` both ways, or `rate: { up: X, down: Y }`: client → server and server → client.
            let (goodput, down) = try Self.goodputs(p, at: item, r)
            let burst = try p["burst"].map { try Self.burst($0, baseline: goodput, r) }
            if burst != nil, down != nil {
                throw r.error(p["burst"]!, "a pair with 'rate: { up, down }' cannot have a burst credit too; give it 'goodput:'")
            }
            profile.pairs.append(LabProfile.Pair(
                name: pname,
                provider: try r.string(p, "provider", required: true, at: item)!,
                type: try r.string(p, "type", required: true, at: item)!,
                goodput: goodput,
                price: try r.string(p, "price", at: item),
                priceAsOf: try r.string(p, "price_as_of", at: item),
                paths: try r.strings(p, "paths"),
                region: try r.string(p, "region", at: item), burst: burst))
            profile.pairs[profile.pairs.count - 1].tests = try r.strings(p, "tests")
            profile.pairs[profile.pairs.count - 1].downGoodput = down
            profile.pairs[profile.pairs.count - 1].directions = try Self.directions(p, r)
            profile.pairs[profile.pairs.count - 1].streams = try Self.streams(p, r)
            if let u = p["udp_rate"] {
                guard u.string == "search" else { throw r.error(u, "a pair's udp_rate may only be 'search'") }
                profile.pairs[profile.pairs.count - 1].udpRateSearch = true
            }
            if let node = p["pps_limit"] {
                guard let n = node.int, PacketRateLimit.range.contains(n) else {
                    throw r.error(node, "pps_limit must be a whole number of packets per second from "
                                  + "\(PacketRateLimit.range.lowerBound) to \(PacketRateLimit.range.upperBound)")
                }
                profile.pairs[profile.pairs.count - 1].packetRateLimit = n
            }
            if let region = profile.pairs.last?.region {
                try r.check(region, matches: #"^[a-z0-9][a-z0-9-]{0,40}$"#, node: p["region"]!, what: "region")
            }
        }
        if let node = top["groups"] { profile.groups = try Self.groups(node, pairs: profile.pairs, r) }
        return profile
    }

    /// `groups:` over the pairs' instances, each host an instance id (`PAIR-server`, `PAIR-client`);
    /// the inventory checks the rest again when the lab writes them out.
    private static func groups(_ node: Node, pairs: [LabProfile.Pair], _ r: Reader) throws -> [LabProfile.Group] {
        guard let list = node.sequence, !list.isEmpty, list.count <= 64 else {
            throw r.error(node, "'groups' must be a list of 1 to 64 groups")
        }
        let ids = Set(pairs.flatMap { ["\($0.name)-server", "\($0.name)-client"] })
        var names = Set(pairs.map(\.name))
        var out: [LabProfile.Group] = []
        for item in list {
            let g = try r.mapping(item, keys: ["name", "shape", "provider", "type", "region", "price", "price_as_of", "repetitions",
                                               "server", "client", "clients", "servers", "middle", "backends", "sweep"], what: "a group")
            let name = try r.string(g, "name", required: true, at: item)!
            try r.check(name, matches: #"^[a-z0-9][a-z0-9.-]{0,30}$"#, node: g["name"]!, what: "group name")
            guard names.insert(name).inserted else { throw r.error(g["name"]!, "the name '\(name)' is a pair's or another group's") }
            let shape = try r.string(g, "shape", required: true, at: item)!
            guard ["fan_in", "fan_out", "through"].contains(shape) else { throw r.error(g["shape"]!, "shape must be fan_in, fan_out or through") }
            var group = LabProfile.Group(name: name, shape: shape, provider: try r.string(g, "provider", required: true, at: item)!,
                                         type: try r.string(g, "type", required: true, at: item)!, region: try r.string(g, "region", at: item),
                                         price: try r.string(g, "price", at: item), priceAsOf: try r.string(g, "price_as_of", at: item),
                                         hub: "", middle: nil, spokes: [], sweep: nil, repetitions: nil)
            func instance(_ id: String, _ at: Node) throws -> String {
                guard ids.contains(id) else { throw r.error(at, "'\(id)' is no instance of this profile; name one as PAIR-server or PAIR-client") }
                return id
            }
            if shape == "through", let list = g["clients"] {
                // Several clients through the middle: `clients: [a, b]` (or one, as `client: a`).
                guard g["client"] == nil else { throw r.error(list, "give 'client' or 'clients', not both") }
                guard let ids = try r.strings(g, "clients"), !ids.isEmpty, ids.count <= 64, let nodes = list.sequence else {
                    throw r.error(list, "'clients' is a list of 1 to 64 instance ids")
                }
                let checked = try zip(ids, nodes).map { try instance($0, $1) }
                group.hub = checked[0]
                group.otherClients = Array(checked.dropFirst())
            } else {
                group.hub = try instance(try r.string(g, group.keys.hub, required: true, at: item)!, g[group.keys.hub] ?? item)
            }
            if shape == "through" { group.middle = try instance(try r.string(g, "middle", required: true, at: item)!, g["middle"]!) }
            guard let spokes = try r.strings(g, group.keys.spokes), !spokes.isEmpty, spokes.count <= 64 else {
                throw r.error(g[group.keys.spokes] ?? item, "a \(shape) group needs '\(group.keys.spokes)': a list of 1 to 64 instance ids")
            }
            group.spokes = try zip(spokes, g[group.keys.spokes]!.sequence!).map { try instance($0, $1) }
            if let s = g["sweep"] {
                let items = s.sequence.map(Array.init) ?? [s]
                group.sweep = try items.map { item in
                    guard let n = item.int, (1...spokes.count).contains(n) else {
                        throw r.error(item, "a sweep step is a number of \(group.keys.spokes) from 1 to \(spokes.count)")
                    }
                    return n
                }
            }
            if let n = g["repetitions"] {
                guard let v = n.int, InventoryLoader.Limits.repetitions.contains(v) else { throw r.error(n, "repetitions must be from 1 to 1000") }
                group.repetitions = v
            }
            out.append(group)
        }
        return out
    }

    /// `burst: { rate: PEAK, bytes: CREDIT }`: a peak above the baseline, a credit of at least
    /// 1 MB and at most what tbf can hold (its bucket is a 32-bit count of bytes).
    private static func burst(_ node: Node, baseline: Goodput, _ r: Reader) throws -> LabProfile.BurstCredit {
        let b = try r.mapping(node, keys: ["rate", "bytes"], what: "burst")
        let rateText = try r.string(b, "rate", required: true, at: node)!
        guard let peak = Goodput(parsing: rateText), peak.bytesPerSecond <= 100e9 else {
            throw r.error(b["rate"]!, "burst rate '\(rateText)' is not a rate like '126 MB/s' or '1 Gbit/s'")
        }
        guard peak.wireBytesPerSecond > baseline.wireBytesPerSecond else {
            throw r.error(b["rate"]!, "burst rate \(peak) must be above the pair's goodput \(baseline)")
        }
        let bytesText = try r.string(b, "bytes", required: true, at: node)!
        guard let bytes = ByteCount(parsing: bytesText)?.bytes, (1_000_000...4_000_000_000).contains(bytes) else {
            throw r.error(b["bytes"]!, "burst bytes '\(bytesText)' must be a size from 1 MB to 4 GB, like '575 MB'")
        }
        // tc hands tbf the bucket as time at the baseline rate, in a 32-bit count of 64 ns ticks.
        guard Double(bytes) / Double(baseline.wireBytesPerSecond) <= 250 else {
            throw r.error(b["bytes"]!, "burst bytes '\(bytesText)' take more than 250 s to refill at \(baseline); tbf cannot hold that")
        }
        return LabProfile.BurstCredit(peak: peak, creditBytes: bytes)
    }

    /// A pair's `goodput:` (both ways) or `rate: { up: X, down: Y }` (up is client → server); the
    /// second is nil for a symmetric link.
    private static func goodputs(_ p: Node.Mapping, at item: Node, _ r: Reader) throws -> (Goodput, Goodput?) {
        func rate(_ node: Node, _ text: String, _ key: String) throws -> Goodput {
            guard let g = Goodput(parsing: text) else {
                throw r.error(node, "\(key) '\(text)' is not a rate like '24.8 MB/s', '590 KB/s' or '200 Mbit/s' from 1 B/s to 100 GB/s")
            }
            return g
        }
        switch (p["goodput"], p["rate"]) {
        case (let g?, nil):
            return (try rate(g, try r.string(p, "goodput", at: item)!, "goodput"), nil)
        case (nil, let node?):
            let m = try r.mapping(node, keys: ["up", "down"], what: "rate")
            let up = try rate(m["up"] ?? node, try r.string(m, "up", required: true, at: node)!, "rate up")
            let down = try rate(m["down"] ?? node, try r.string(m, "down", required: true, at: node)!, "rate down")
            return (up, down)
        case (_?, let node?):
            throw r.error(node, "give either 'goodput' (both ways) or 'rate: { up, down }', not both")
        case (nil, nil):
            throw r.error(item, "missing key 'goodput' (or 'rate: { up: X, down: Y }' for a link shaped differently each way)")
        }
    }

    /// `directions:`, passed through to the inventory, which checks the names again.
    private static func directions(_ m: Node.Mapping, _ r: Reader) throws -> [String]? {
        guard let list = try r.strings(m, "directions") else { return nil }
        for (i, d) in list.enumerated() where Direction(rawValue: d) == nil {
            throw r.error(Array(m["directions"]!.sequence!)[i], "unknown direction '\(d)'; directions are "
                          + Direction.allCases.map(\.rawValue).joined(separator: ", "))
        }
        return list
    }

    /// `streams: N` or `[1, 4, 8]`, each from 1 to 128.
    private static func streams(_ m: Node.Mapping, _ r: Reader) throws -> [Int]? {
        guard let node = m["streams"] else { return nil }
        let items = node.sequence.map(Array.init) ?? [node]
        return try items.map { item in
            guard let n = item.int, InventoryLoader.Limits.streams.contains(n) else {
                throw r.error(item, "streams must be whole numbers from 1 to 128")
            }
            return n
        }
    }

    static let durationPattern = #"^[0-9]+(\.[0-9]+)?(ms|s|m)$"#
}

/// Small typed accessors over Yams nodes that point at the offending line.
private struct Reader {
    let source: String

    func error(_ node: Node, _ message: String) -> LabError {
        if let mark = node.mark { return .usage("\(source):\(mark.line):\(mark.column): \(message)") }
        return .usage("\(source): \(message)")
    }

    func mapping(_ node: Node, keys: Set<String>, what: String) throws -> Node.Mapping {
        guard let m = node.mapping else { throw error(node, "\(what) must be a mapping") }
        for (k, _) in m {
            guard let key = k.string, keys.contains(key) else {
                throw error(k, "unknown key '\(k.string ?? "?")' in \(what); expected one of: \(keys.sorted().joined(separator: ", "))")
            }
        }
        return m
    }

    func string(_ m: Node.Mapping, _ key: String, required: Bool = false, at parent: Node) throws -> String? {
        guard let n = m[key] else {
            if required { throw error(parent, "missing key '\(key)'") }
            return nil
        }
        guard let s = n.scalar?.string, !s.isEmpty else { throw error(n, "'\(key)' must be a non-empty text") }
        return s
    }

    func strings(_ m: Node.Mapping, _ key: String) throws -> [String]? {
        guard let n = m[key] else { return nil }
        guard let seq = n.sequence else { throw error(n, "'\(key)' must be a list, e.g. [a, b]") }
        return try seq.map { item in
            guard let s = item.scalar?.string, !s.isEmpty else { throw error(item, "'\(key)' must hold texts") }
            return s
        }
    }

    func check(_ value: String, matches pattern: String, node: Node, what: String) throws {
        guard value.range(of: pattern, options: .regularExpression) != nil else {
            throw error(node, "\(what) '\(value)' is not allowed (must match \(pattern))")
        }
    }
}
