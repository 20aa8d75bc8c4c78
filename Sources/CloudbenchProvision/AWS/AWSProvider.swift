import CloudbenchCore
import CloudbenchPricing
import Foundation

/// AWS EC2 through the Query API: per run a key pair, per pair a security group (SSH from one
/// CIDR; every port, but only from the other member of the pair), per entry optionally a cluster
/// placement group, and the instances — all tagged, all in the region's default VPC.
public final class AWSProvider: ProvisionProvider {
    public let name = "aws"
    public let sshUser = "ubuntu"
    public let sshSudo = true
    private let credentials: AWSCredentials
    private let environment: [String: String]
    private var clients: [String: EC2Client] = [:]
    /// Instance id → its region, for the instances this provider created.
    private var regionOf: [String: String] = [:]
    /// Seconds between polls while waiting for instances to change state.
    public var pollInterval: Double = 3
    /// Seconds to wait for every instance to terminate at destroy.
    public var terminateDeadline: Double = 600

    /// Canonical's AWS account: the owner of the official Ubuntu images.
    public static let canonicalOwner = "099720109477"
    /// The default image: the newest available Ubuntu 24.04 LTS (noble) AMI of the region.
    public static func defaultImageName(arch: String) -> String { "ubuntu/images/hvm-ssd*/ubuntu-noble-24.04-\(arch)-server-*" }

    public init(credentials: AWSCredentials, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.credentials = credentials
        self.environment = environment
    }

    public var apiCalls: [String: Int] {
        clients.values.reduce(into: [:]) { out, c in c.calls.forEach { out[$0.key, default: 0] += $0.value } }
    }

    func client(_ region: String) throws -> EC2Client {
        if let c = clients[region] { return c }
        let c = try EC2Client(region: region, credentials: credentials, environment: environment)
        clients[region] = c
        return c
    }

    /// Graviton types (`c6g`, `m7gd`, `t4g`, `c7gn`) run arm64 images.
    static func architecture(of type: String) -> String {
        let family = type.split(separator: ".").first.map(String.init) ?? type
        guard let digit = family.firstIndex(where: \.isNumber) else { return "amd64" }
        return family[family.index(after: digit)...].hasPrefix("g") ? "arm64" : "amd64"
    }

    // MARK: - create

    public func create(_ request: ProvisionRequest, journal: ProvisionJournal) throws -> [ProvisionedPair] {
        let runID = request.runID
        let tags = request.tags
        func check() throws { if request.cancelled() { throw ProvisionError("stopped by a signal", status: 130) } }
        var keyNames: [String: String] = [:]
        var images: [String: String] = [:]
        var launched: [(pair: String, entry: String, server: String, client: String, region: String)] = []
        for entry in request.fleet.entries {
            try check()
            let ec2 = try client(entry.region)
            if keyNames[entry.region] == nil {
                let keyName = "cloudbench-\(runID)"
                let answer = try ec2.call("ImportKeyPair", [("KeyName", keyName),
                    ("PublicKeyMaterial", Data(request.publicKey.utf8).base64EncodedString())]
                    + EC2Client.tagSpecifications(["key-pair"], tags: tags + [("Name", keyName)]))
                journal.add(kind: "key-pair", id: answer.value("keyPairId") ?? keyName, region: entry.region)
                keyNames[entry.region] = keyName
            }
            let image: String
            if let i = entry.image { image = i } else {
                let arch = Self.architecture(of: entry.type)
                let cacheKey = "\(entry.region)/\(arch)"
                if let i = images[cacheKey] { image = i } else {
                    image = try defaultImage(ec2, arch: arch, region: entry.region)
                    images[cacheKey] = image
                }
            }
            var group: String?
            if entry.placementGroup {
                let g = "cloudbench-\(runID)-\(entry.name)"
                try ec2.call("CreatePlacementGroup", [("GroupName", g), ("Strategy", "cluster")]
                    + EC2Client.tagSpecifications(["placement-group"], tags: tags + [("Name", g)]))
                journal.add(kind: "placement-group", id: g, region: entry.region)
                group = g
            }
            for pairName in entry.pairNames {
                try check()
                let sgName = "cloudbench-\(runID)-\(pairName)"
                let sg = try ec2.call("CreateSecurityGroup", [("GroupName", sgName),
                    ("GroupDescription", "cloudbench run \(runID) pair \(pairName): SSH from \(request.sshFrom), tests between the pair")]
                    + EC2Client.tagSpecifications(["security-group"], tags: tags + [("Name", sgName)]))
                guard let groupID = sg.value("groupId") else { throw ProvisionError("EC2 CreateSecurityGroup answered without a groupId") }
                journal.add(kind: "security-group", id: groupID, region: entry.region)
                try ec2.call("AuthorizeSecurityGroupIngress", [
                    ("GroupId", groupID),
                    ("IpPermissions.1.IpProtocol", "tcp"), ("IpPermissions.1.FromPort", "22"), ("IpPermissions.1.ToPort", "22"),
                    ("IpPermissions.1.IpRanges.1.CidrIp", request.sshFrom),
                    ("IpPermissions.1.IpRanges.1.Description", "cloudbench SSH"),
                    ("IpPermissions.2.IpProtocol", "-1"),
                    ("IpPermissions.2.Groups.1.GroupId", groupID),
                    ("IpPermissions.2.Groups.1.Description", "the other member of pair \(pairName)"),
                ])
                var ids: [String] = []
                for (index, role) in ["server", "client"].enumerated() {
                    try check()
                    var params: [(String, String)] = [
                        ("ImageId", image), ("InstanceType", entry.type), ("MinCount", "1"), ("MaxCount", "1"),
                        ("KeyName", keyNames[entry.region]!), ("SecurityGroupId.1", groupID),
                        ("ClientToken", String("\(runID)-\(pairName)-\(role)".suffix(64))),
                        ("MetadataOptions.HttpTokens", "required"),
                        ("InstanceInitiatedShutdownBehavior", "terminate"),
                    ]
                    let zone = entry.zones.isEmpty ? nil : entry.zones[min(index, entry.zones.count - 1)]
                    if let zone { params.append(("Placement.AvailabilityZone", zone)) }
                    if let group { params.append(("Placement.GroupName", group)) }
                    params += EC2Client.tagSpecifications(["instance", "volume"],
                                                          tags: tags + [("Name", "cloudbench-\(runID)-\(pairName)-\(role)")])
                    let answer = try ec2.call("RunInstances", params)
                    guard let id = answer.items("instancesSet").first?.value("instanceId") else {
                        throw ProvisionError("EC2 RunInstances answered without an instance id")
                    }
                    journal.add(kind: "instance", id: id, region: entry.region)
                    regionOf[id] = entry.region
                    ids.append(id)
                }
                launched.append((pairName, entry.name, ids[0], ids[1], entry.region))
            }
        }
        // Wait until every instance runs (each region in turn, one deadline for all).
        let end = Date().addingTimeInterval(request.runningDeadline)
        var found: [String: ProvisionedInstance] = [:]
        for region in Set(launched.map(\.region)).sorted() {
            let ids = launched.filter { $0.region == region }.flatMap { [$0.server, $0.client] }
            while true {
                try check()
                let answer = try client(region).call("DescribeInstances", EC2Client.list("InstanceId", ids))
                var pending = 0
                for inst in Self.instances(answer) {
                    let state = inst.child("instanceState")?.value("name") ?? "?"
                    let id = inst.value("instanceId") ?? "?"
                    switch state {
                    case "running":
                        guard let pub = inst.value("ipAddress") else {
                            throw ProvisionError("instance \(id) runs without a public IPv4 address; the region's default subnet must assign one (docs/provision.md)")
                        }
                        found[id] = ProvisionedInstance(id: id, publicAddress: pub, privateAddress: inst.value("privateIpAddress") ?? pub,
                                                        zone: inst.child("placement")?.value("availabilityZone") ?? "",
                                                        launchTime: inst.value("launchTime").flatMap(ProvisionTags.date))
                    case "pending": pending += 1
                    default:
                        let reason = inst.child("stateReason")?.value("message") ?? state
                        throw ProvisionError("instance \(id) went \(state) while starting: \(reason)")
                    }
                }
                if pending == 0 && ids.allSatisfy({ found[$0] != nil }) { break }
                guard Date() < end else {
                    throw ProvisionError("instances in \(region) were not running after \(Int(request.runningDeadline)) s")
                }
                Thread.sleep(forTimeInterval: pollInterval)
            }
        }
        return launched.map { ProvisionedPair(entry: $0.entry, name: $0.pair, server: found[$0.server]!, client: found[$0.client]!) }
    }

    func defaultImage(_ ec2: EC2Client, arch: String, region: String) throws -> String {
        let answer = try ec2.call("DescribeImages", [("Owner.1", Self.canonicalOwner)] + EC2Client.filters([
            ("name", [Self.defaultImageName(arch: arch)]), ("state", ["available"]),
            ("architecture", [arch == "arm64" ? "arm64" : "x86_64"])]))
        let newest = answer.items("imagesSet")
            .compactMap { i -> (String, String)? in i.value("imageId").map { ($0, i.value("creationDate") ?? "") } }
            .max { $0.1 < $1.1 }
        guard let id = newest?.0 else {
            throw ProvisionError("no Ubuntu 24.04 LTS image from Canonical found in \(region); give 'image: ami-…' in the fleet", status: 2)
        }
        return id
    }

    /// Every `instancesSet` item of every reservation.
    static func instances(_ answer: XMLNode) -> [XMLNode] {
        answer.items("reservationSet").flatMap { $0.items("instancesSet") }
    }

    // MARK: - host keys

    public func hostKeys(of instances: [ProvisionedInstance]) throws -> [String: [String]] {
        var out: [String: [String]] = [:]
        for region in clients.keys.sorted() {
            let ec2 = try client(region)
            for i in instances where (regionOf[i.id] ?? region) == region {
                guard let answer = try? ec2.call("GetConsoleOutput", [("InstanceId", i.id)]),
                      let b64 = answer.value("output"), let data = Data(base64Encoded: b64, options: .ignoreUnknownCharacters) else { continue }
                let keys = ConsoleHostKeys.parse(String(decoding: data, as: UTF8.self))
                if !keys.isEmpty { out[i.id] = keys }
            }
        }
        return out
    }

    // MARK: - destroy and sweep

    public func destroy(runID: String, regions: [String], journal: ProvisionJournal?, progress: (String) -> Void) throws -> [String] {
        var removed: [String] = []
        let byRun = [("tag:" + ProvisionTags.run, [runID])]
        for region in regions {
            let ec2 = try client(region)
            // Instances first: a security group or placement group in use cannot be deleted.
            let described = Self.instances(try ec2.call("DescribeInstances", EC2Client.filters(byRun)))
            var groups = Set(journal?.record.resources.filter { $0.kind == "placement-group" && $0.region == region }.map(\.id) ?? [])
            var live: [String] = []
            var launch: [String: Date] = [:]
            for inst in described {
                guard let id = inst.value("instanceId") else { continue }
                if let g = inst.child("placement")?.value("groupName"), g.hasPrefix("cloudbench-") { groups.insert(g) }
                if let t = inst.value("launchTime").flatMap(ProvisionTags.date) { launch[id] = t }
                if inst.child("instanceState")?.value("name") != "terminated" { live.append(id) }
            }
            if !live.isEmpty {
                progress("terminating \(live.count) instances in \(region)")
                try ec2.call("TerminateInstances", EC2Client.list("InstanceId", live))
                let end = Date().addingTimeInterval(terminateDeadline)
                while true {
                    let states = Self.instances(try ec2.call("DescribeInstances", EC2Client.list("InstanceId", live)))
                    if states.allSatisfy({ $0.child("instanceState")?.value("name") == "terminated" }) { break }
                    guard Date() < end else {
                        throw ProvisionError("instances \(live.joined(separator: ", ")) in \(region) were not terminated after \(Int(terminateDeadline)) s; run `cloudbench destroy \(runID)` again")
                    }
                    Thread.sleep(forTimeInterval: pollInterval)
                }
                let now = Date()
                journal?.update { r in
                    r.instance_seconds = (r.instance_seconds ?? 0) + live.reduce(0) { $0 + max(0, now.timeIntervalSince(launch[$1] ?? now)) }
                }
                removed += live.map { "instance \($0) (\(region))" }
            }
            let sgs = try ec2.call("DescribeSecurityGroups", EC2Client.filters(byRun)).items("securityGroupInfo").compactMap { $0.value("groupId") }
            for sg in sgs {
                // A group still referenced by an instance shutting down answers DependencyViolation for a while.
                let end = Date().addingTimeInterval(120)
                while true {
                    do {
                        try ec2.call("DeleteSecurityGroup", [("GroupId", sg)])
                        removed.append("security group \(sg) (\(region))")
                        break
                    } catch let e as EC2Error where e.isNotFound {
                        break
                    } catch let e as EC2Error where e.code == "DependencyViolation" && Date() < end {
                        Thread.sleep(forTimeInterval: pollInterval)
                    }
                }
            }
            let keys = try ec2.call("DescribeKeyPairs", EC2Client.filters(byRun)).items("keySet")
            for k in keys {
                guard let name = k.value("keyName") else { continue }
                do {
                    try ec2.call("DeleteKeyPair", [("KeyName", name)])
                    removed.append("key pair \(name) (\(region))")
                } catch let e as EC2Error where e.isNotFound {}
            }
            for g in groups.sorted() {
                do {
                    try ec2.call("DeletePlacementGroup", [("GroupName", g)])
                    removed.append("placement group \(g) (\(region))")
                } catch let e as EC2Error where e.isNotFound {}
            }
            for v in try ec2.call("DescribeVolumes", EC2Client.filters(byRun + [("status", ["available"])])).items("volumeSet") {
                guard let id = v.value("volumeId") else { continue }
                do {
                    try ec2.call("DeleteVolume", [("VolumeId", id)])
                    removed.append("volume \(id) (\(region))")
                } catch let e as EC2Error where e.isNotFound {}
            }
            for a in try ec2.call("DescribeAddresses", EC2Client.filters(byRun)).items("addressesSet") {
                guard let id = a.value("allocationId") else { continue }
                do {
                    try ec2.call("ReleaseAddress", [("AllocationId", id)])
                    removed.append("address \(a.value("publicIp") ?? id) (\(region))")
                } catch let e as EC2Error where e.isNotFound {}
            }
        }
        return removed
    }

    public func managedRuns(regions: [String]) throws -> [String: Date] {
        var runs: [String: Date] = [:]
        let managed = [("tag:" + ProvisionTags.managed, ["true"])]
        func note(_ node: XMLNode, skipTerminated: Bool = false) {
            if skipTerminated, node.child("instanceState")?.value("name") == "terminated" { return }
            let tags = node.tags
            guard let run = tags[ProvisionTags.run], !run.isEmpty else { return }
            let created = tags[ProvisionTags.created].flatMap(ProvisionTags.date) ?? .distantPast
            runs[run] = min(runs[run] ?? created, created)
        }
        for region in regions {
            let ec2 = try client(region)
            Self.instances(try ec2.call("DescribeInstances", EC2Client.filters(managed))).forEach { note($0, skipTerminated: true) }
            try ec2.call("DescribeSecurityGroups", EC2Client.filters(managed)).items("securityGroupInfo").forEach { note($0) }
            try ec2.call("DescribeKeyPairs", EC2Client.filters(managed)).items("keySet").forEach { note($0) }
            try ec2.call("DescribeVolumes", EC2Client.filters(managed)).items("volumeSet").forEach { note($0) }
            try ec2.call("DescribeAddresses", EC2Client.filters(managed)).items("addressesSet").forEach { note($0) }
        }
        return runs
    }
}
