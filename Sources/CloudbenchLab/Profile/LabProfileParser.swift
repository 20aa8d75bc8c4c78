import Foundation
import Yams

/// Reads a lab profile from YAML and reports mistakes as `file:line:column: sentence`.
public enum LabProfileParser {
    /// Built-in path names; an overlay may not take one of them.
    static let builtinPaths: Set<String> = ["host", "vxlan", "udp"]

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
            guard let node = try Yams.compose(yaml: text) else {
                throw LabError.usage("\(source): the lab profile is empty")
            }
            root = node
        } catch let error as LabError {
            throw error
        } catch {
            throw LabError.usage("\(source): not valid YAML: \(error)")
        }
        let r = Reader(source: source)
        let top = try r.mapping(root, keys: ["name", "description", "run", "overlay", "pairs"], what: "the profile")

        let name = try r.string(top, "name", required: true, at: root)!
        try r.check(name, matches: #"^[a-z0-9][a-z0-9._-]*$"#, node: top["name"]!, what: "profile name")
        var profile = LabProfile(name: name, description: try r.string(top, "description", at: root) ?? "", pairs: [])

        if let runNode = top["run"] {
            let run = try r.mapping(runNode, keys: ["tests", "duration", "warmup", "repetitions", "paths", "udp_rate", "http_size",
                                                    "http_count"], what: "run")
            if let tests = try r.strings(run, "tests") { profile.run.tests = tests }
            if let d = try r.string(run, "duration", at: runNode) {
                try r.check(d, matches: durationPattern, node: run["duration"]!, what: "duration")
                profile.run.duration = d
            }
            if let w = try r.string(run, "warmup", at: runNode) {
                try r.check(w, matches: durationPattern, node: run["warmup"]!, what: "warmup")
                profile.run.warmup = w
            }
            if let n = run["repetitions"] {
                guard let v = n.int, v >= 1 else { throw r.error(n, "repetitions must be a whole number of at least 1") }
                profile.run.repetitions = v
            }
            if let p = try r.strings(run, "paths") { profile.run.paths = p }
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
            let p = try r.mapping(item, keys: ["name", "provider", "type", "goodput", "price", "price_as_of", "paths", "region", "tests"],
                                  what: "a pair")
            let pname = try r.string(p, "name", required: true, at: item)!
            try r.check(pname, matches: #"^[a-z0-9][a-z0-9.-]{0,30}$"#, node: p["name"]!, what: "pair name")
            guard seen.insert(pname).inserted else { throw r.error(p["name"]!, "pair name '\(pname)' appears twice") }
            let goodputText = try r.string(p, "goodput", required: true, at: item)!
            guard let goodput = Goodput(parsing: goodputText) else {
                throw r.error(p["goodput"]!, "goodput '\(goodputText)' is not a rate like '24.8 MB/s', '590 KB/s' or '200 Mbit/s'")
            }
            profile.pairs.append(LabProfile.Pair(
                name: pname,
                provider: try r.string(p, "provider", required: true, at: item)!,
                type: try r.string(p, "type", required: true, at: item)!,
                goodput: goodput,
                price: try r.string(p, "price", at: item),
                priceAsOf: try r.string(p, "price_as_of", at: item),
                paths: try r.strings(p, "paths"),
                region: try r.string(p, "region", at: item)))
            profile.pairs[profile.pairs.count - 1].tests = try r.strings(p, "tests")
            if let region = profile.pairs.last?.region {
                try r.check(region, matches: #"^[a-z0-9][a-z0-9-]{0,40}$"#, node: p["region"]!, what: "region")
            }
        }
        return profile
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
