import CloudbenchCore
import Foundation

/// DigitalOcean through API v2: per run an SSH key (`cloudbench-RUNID`), per pair a cloud firewall
/// (SSH from one CIDR; TCP, UDP and ICMP only from the droplets of that pair's tag) and two droplets
/// in the region's default VPC, tagged `cloudbench-run-RUNID`, `cloudbench-managed` and the pair's tag.
///
/// DigitalOcean tags are names, not key=value pairs (letters, digits, `-`, `_`, `:`), so the run's
/// tag carries its id; a droplet's `created_at` is its creation time. SSH keys and firewalls take no
/// tags: they are found by their names, `cloudbench-RUNID` and `cloudbench-RUNID-PAIR`.
public final class DigitalOceanProvider: ProvisionProvider {
    public let name = "digitalocean"
    /// DigitalOcean's Ubuntu images log in as root.
    public let sshUser = "root"
    public let sshSudo = false
    let api: DigitalOceanAPI
    /// Seconds between polls while droplets start or disappear.
    public var pollInterval: Double = 3
    public var deleteDeadline: Double = 600

    public static let defaultImage = "ubuntu-24-04-x64"
    public static let managedTag = "cloudbench-managed"

    public init(token: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        api = try DigitalOceanAPI(token: token, environment: environment)
    }

    public var apiCalls: [String: Int] { api.calls }

    public static func runTag(_ runID: String) -> String { "cloudbench-run-\(runID.lowercased())" }
    public static func pairTag(_ runID: String, _ pair: String) -> String { "cloudbench-pair-\(runID.lowercased())-\(slug(pair))" }
    static func keyName(_ runID: String) -> String { "cloudbench-\(runID)" }
    static func firewallName(_ runID: String, _ pair: String) -> String { "cloudbench-\(runID)-\(slug(pair))" }

    /// Lower case letters, digits and `-`: valid in a tag, a droplet name and a firewall name.
    static func slug(_ s: String) -> String {
        String(s.lowercased().map { ($0.isASCII && ($0.isLetter || $0.isNumber)) || $0 == "-" ? $0 : "-" }.prefix(60))
    }

    // MARK: - create

    public func create(_ request: ProvisionRequest, journal: ProvisionJournal) throws -> [ProvisionedPair] {
        let runID = request.runID
        func check() throws { if request.cancelled() { throw ProvisionError("stopped by a signal", status: 130) } }
        let runTag = Self.runTag(runID)
        for tag in [Self.managedTag, runTag] {
            // 201 created; an existing tag answers 201 as well, or 422 on older API versions.
            try api.call("CreateTag", .post, "/v2/tags", body: ["name": tag], accept: [422])
        }
        journal.add(kind: "tag", id: runTag, region: "global")
        let key = try api.call("CreateKey", .post, "/v2/account/keys",
                               body: ["name": Self.keyName(runID), "public_key": request.publicKey]).object["ssh_key"] as? [String: Any]
        guard let keyID = key?["id"].flatMap(Self.idText) else { throw ProvisionError("DigitalOcean CreateKey answered without an id") }
        journal.add(kind: "ssh-key", id: keyID, region: "global")

        var launched: [(pair: String, entry: String, server: String, client: String)] = []
        for entry in request.fleet.entries {
            for pairName in entry.pairNames {
                try check()
                let pairTag = Self.pairTag(runID, pairName)
                try api.call("CreateTag", .post, "/v2/tags", body: ["name": pairTag], accept: [422])
                journal.add(kind: "tag", id: pairTag, region: "global")
                let peers: [String: Any] = ["tags": [pairTag]]
                let everywhere: [String: Any] = ["addresses": ["0.0.0.0/0", "::/0"]]
                let firewall: [String: Any] = [
                    "name": Self.firewallName(runID, pairName),
                    "tags": [pairTag],
                    "inbound_rules": [
                        ["protocol": "tcp", "ports": "22", "sources": ["addresses": [request.sshFrom]]],
                        ["protocol": "tcp", "ports": "0", "sources": peers],
                        ["protocol": "udp", "ports": "0", "sources": peers],
                        ["protocol": "icmp", "sources": peers],
                    ],
                    "outbound_rules": [
                        ["protocol": "tcp", "ports": "0", "destinations": everywhere],
                        ["protocol": "udp", "ports": "0", "destinations": everywhere],
                        ["protocol": "icmp", "destinations": everywhere],
                    ],
                ]
                let fw = try api.call("CreateFirewall", .post, "/v2/firewalls", body: firewall).object["firewall"] as? [String: Any]
                guard let fwID = fw?["id"].flatMap(Self.idText) else { throw ProvisionError("DigitalOcean CreateFirewall answered without an id") }
                journal.add(kind: "firewall", id: fwID, region: entry.region)
                var ids: [String] = []
                for role in ["server", "client"] {
                    try check()
                    let body: [String: Any] = [
                        "name": "cb-\(runID)-\(Self.slug(pairName))-\(role)",
                        "region": entry.region, "size": entry.type, "image": entry.image ?? Self.defaultImage,
                        "ssh_keys": [Int(keyID).map { $0 as Any } ?? keyID],
                        "tags": [runTag, Self.managedTag, pairTag],
                        "ipv6": false, "monitoring": false, "backups": false,
                    ]
                    let d = try api.call("CreateDroplet", .post, "/v2/droplets", body: body).object["droplet"] as? [String: Any]
                    guard let id = d?["id"].flatMap(Self.idText) else { throw ProvisionError("DigitalOcean CreateDroplet answered without an id") }
                    journal.add(kind: "droplet", id: id, region: entry.region)
                    ids.append(id)
                }
                launched.append((pairName, entry.name, ids[0], ids[1]))
            }
        }
        // Wait until every droplet is active with its addresses (one deadline for all).
        let end = Date().addingTimeInterval(request.runningDeadline)
        var found: [String: ProvisionedInstance] = [:]
        let wanted = Set(launched.flatMap { [$0.server, $0.client] })
        while true {
            try check()
            for d in try api.list("ListDroplets", "/v2/droplets?tag_name=\(runTag)", key: "droplets") {
                guard let id = d["id"].flatMap(Self.idText), wanted.contains(id) else { continue }
                let status = d["status"] as? String ?? "?"
                switch status {
                case "active":
                    let v4 = (d["networks"] as? [String: Any])?["v4"] as? [[String: Any]] ?? []
                    let pub = v4.first { $0["type"] as? String == "public" }?["ip_address"] as? String
                    let priv = v4.first { $0["type"] as? String == "private" }?["ip_address"] as? String
                    guard let pub else { continue }
                    found[id] = ProvisionedInstance(id: id, publicAddress: pub, privateAddress: priv ?? pub,
                                                    zone: (d["region"] as? [String: Any])?["slug"] as? String ?? "",
                                                    launchTime: (d["created_at"] as? String).flatMap(ProvisionTags.date))
                case "new": break
                default: throw ProvisionError("droplet \(id) is \(status) while starting")
                }
            }
            if wanted.allSatisfy({ found[$0] != nil }) { break }
            guard Date() < end else {
                throw ProvisionError("droplets were not active after \(Int(request.runningDeadline)) s")
            }
            Thread.sleep(forTimeInterval: pollInterval)
        }
        return launched.map { ProvisionedPair(entry: $0.entry, name: $0.pair, server: found[$0.server]!, client: found[$0.client]!) }
    }

    static func idText(_ v: Any) -> String? {
        if let s = v as? String, !s.isEmpty { return s }
        if let n = v as? Int { return String(n) }
        if let n = v as? NSNumber { return n.stringValue }
        return nil
    }

    // MARK: - host keys

    /// DigitalOcean has no console API: every host key is trusted on first use (the engine warns).
    public func hostKeys(of instances: [ProvisionedInstance]) throws -> [String: [String]] { [:] }

    // MARK: - destroy and sweep

    public func destroy(runID: String, regions: [String], journal: ProvisionJournal?, progress: (String) -> Void) throws -> [String] {
        var removed: [String] = []
        let runTag = Self.runTag(runID)
        let droplets = try api.list("ListDroplets", "/v2/droplets?tag_name=\(runTag)", key: "droplets")
        if !droplets.isEmpty {
            progress("deleting \(droplets.count) droplets of \(runTag)")
            var created: [String: Date] = [:]
            for d in droplets {
                if let id = d["id"].flatMap(Self.idText) { created[id] = (d["created_at"] as? String).flatMap(ProvisionTags.date) }
            }
            try api.call("DeleteDroplets", .delete, "/v2/droplets?tag_name=\(runTag)", accept: [404])
            let end = Date().addingTimeInterval(deleteDeadline)
            while true {
                let left = try api.list("ListDroplets", "/v2/droplets?tag_name=\(runTag)", key: "droplets")
                if left.isEmpty { break }
                guard Date() < end else {
                    throw ProvisionError("\(left.count) droplets of run \(runID) were still there after \(Int(deleteDeadline)) s; run `cloudbench destroy \(runID)` again")
                }
                Thread.sleep(forTimeInterval: pollInterval)
            }
            let now = Date()
            journal?.update { r in
                r.instance_seconds = (r.instance_seconds ?? 0) + created.values.reduce(0) { $0 + max(0, now.timeIntervalSince($1)) }
            }
            removed += created.keys.sorted().map { "droplet \($0)" }
        }
        let prefix = "cloudbench-\(runID)-"
        for fw in try api.list("ListFirewalls", "/v2/firewalls", key: "firewalls") {
            guard let name = fw["name"] as? String, name.hasPrefix(prefix), let id = fw["id"].flatMap(Self.idText) else { continue }
            let r = try api.call("DeleteFirewall", .delete, "/v2/firewalls/\(id)", accept: [404])
            if r.status != 404 { removed.append("firewall \(name)") }
        }
        for k in try api.list("ListKeys", "/v2/account/keys", key: "ssh_keys") {
            guard k["name"] as? String == Self.keyName(runID), let id = k["id"].flatMap(Self.idText) else { continue }
            let r = try api.call("DeleteKey", .delete, "/v2/account/keys/\(id)", accept: [404])
            if r.status != 404 { removed.append("ssh key \(Self.keyName(runID))") }
        }
        let pairPrefix = "cloudbench-pair-\(runID.lowercased())-"
        for t in try api.list("ListTags", "/v2/tags", key: "tags") {
            guard let name = t["name"] as? String, name == runTag || name.hasPrefix(pairPrefix) else { continue }
            let r = try api.call("DeleteTag", .delete, "/v2/tags/\(name)", accept: [404])
            if r.status != 404 { removed.append("tag \(name)") }
        }
        return removed
    }

    /// Runs with droplets tagged `cloudbench-managed`, or a firewall, key or run tag left over.
    public func managedRuns(regions: [String]) throws -> [String: Date] {
        var runs: [String: Date] = [:]
        func note(_ run: String, _ date: Date?) {
            guard Provisioner.isRunID(run) else { return }
            let d = date ?? Self.runIDTime(run) ?? .distantPast
            runs[run] = min(runs[run] ?? d, d)
        }
        for d in try api.list("ListDroplets", "/v2/droplets?tag_name=\(Self.managedTag)", key: "droplets") {
            let tags = d["tags"] as? [String] ?? []
            guard let t = tags.first(where: { $0.hasPrefix("cloudbench-run-") }) else { continue }
            note(String(t.dropFirst("cloudbench-run-".count)), (d["created_at"] as? String).flatMap(ProvisionTags.date))
        }
        for fw in try api.list("ListFirewalls", "/v2/firewalls", key: "firewalls") {
            guard let name = fw["name"] as? String, let run = Self.runID(inName: name) else { continue }
            note(run, (fw["created_at"] as? String).flatMap(ProvisionTags.date))
        }
        for k in try api.list("ListKeys", "/v2/account/keys", key: "ssh_keys") {
            guard let name = k["name"] as? String, let run = Self.runID(inName: name) else { continue }
            note(run, nil)
        }
        for t in try api.list("ListTags", "/v2/tags", key: "tags") {
            guard let name = t["name"] as? String, name.hasPrefix("cloudbench-run-") else { continue }
            note(String(name.dropFirst("cloudbench-run-".count)), nil)
        }
        return runs
    }

    /// The run id in `cloudbench-RUNID[-…]`: `yyyyMMdd-HHmmss-xxxx`, as `Provisioner.makeRunID` makes them.
    static func runID(inName name: String) -> String? {
        guard name.hasPrefix("cloudbench-") else { return nil }
        let rest = name.dropFirst("cloudbench-".count)
        guard rest.count >= 20 else { return nil }
        let run = String(rest.prefix(20))
        guard runIDTime(run) != nil, rest.count == 20 || rest.dropFirst(20).hasPrefix("-") else { return nil }
        return run
    }

    /// The creation time written in a run id (`20261201-101500-3fa2` → 2026-12-01T10:15:00Z).
    static func runIDTime(_ run: String) -> Date? {
        let parts = run.split(separator: "-")
        guard parts.count == 3, parts[0].count == 8, parts[1].count == 6, parts[2].count == 4,
              parts[2].allSatisfy(\.isHexDigit) else { return nil }
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyyMMdd-HHmmss"
        return f.date(from: "\(parts[0])-\(parts[1])")
    }
}
