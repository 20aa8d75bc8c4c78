import CloudbenchCore
import Foundation

/// Azure through Resource Manager: one resource group per run (`cloudbench-RUNID`, in the first
/// entry's region) holding everything — per region a VNet with one subnet per pair, per pair a
/// network security group on its subnet (SSH from one CIDR; everything from the pair's own subnet;
/// the rest of the VNet denied), per entry with `placement_group: cluster` a proximity placement
/// group, and per instance a Standard static public IP, a NIC (accelerated networking where the
/// region's SKU list says the size supports it) and a VM from Ubuntu LTS with boot diagnostics on.
///
/// Destroy deletes the group and polls until ARM answers 404 for it. Every resource carries the
/// run's tags (`cloudbench-run`, `cloudbench-managed`, `cloudbench-created`).
public final class AzureProvider: ProvisionProvider {
    public let name = "azure"
    public let sshUser = "azureuser"
    public let sshSudo = true
    let arm: AzureARM
    /// Seconds to wait for one resource's creation, and for the group to be gone.
    public var createDeadline: Double = 900
    public var deleteDeadline: Double = 1800
    public var pollInterval: Double = 5
    /// Instance id (VM resource id) → VM name, for reading boot diagnostics.
    private var vmNames: [String: String] = [:]
    private var group = ""

    public static let defaultImage = "Canonical:ubuntu-24_04-lts:server:latest"

    public init(credentials: AzureCredentials, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        arm = try AzureARM(credentials: credentials, environment: environment)
    }

    public var apiCalls: [String: Int] { arm.calls }

    public static func groupName(_ runID: String) -> String { "cloudbench-\(runID)" }

    /// `D2s_v5` → `Standard_D2s_v5`.
    public static func vmSize(_ type: String) -> String { type.hasPrefix("Standard_") || type.hasPrefix("Basic_") ? type : "Standard_\(type)" }

    /// `publisher:offer:sku:version`; Arm sizes (`D2ps_v5`, a `p` after the digits) get the arm64 SKU of the default.
    static func imageReference(_ image: String?, size: String) -> [String: Any]? {
        var parts = (image ?? defaultImage).split(separator: ":").map(String.init)
        guard parts.count == 4 else { return nil }
        if image == nil, isArm(size) { parts[2] = "server-arm64" }
        return ["publisher": parts[0], "offer": parts[1], "sku": parts[2], "version": parts[3]]
    }

    static func isArm(_ size: String) -> Bool {
        let s = size.replacingOccurrences(of: "Standard_", with: "")
        guard let d = s.firstIndex(where: \.isNumber) else { return false }
        let after = s[d...].drop(while: \.isNumber)
        return after.split(separator: "_").first?.contains("p") ?? false
    }

    func runTags(_ request: ProvisionRequest) -> [String: String] {
        Dictionary(request.tags.map { ($0.0, $0.1) }, uniquingKeysWith: { a, _ in a })
    }

    // MARK: - create

    public func create(_ request: ProvisionRequest, journal: ProvisionJournal) throws -> [ProvisionedPair] {
        let runID = request.runID
        func check() throws { if request.cancelled() { throw ProvisionError("stopped by a signal", status: 130) } }
        let tags = runTags(request)
        let entries = request.fleet.entries
        guard let first = entries.first else { return [] }
        group = Self.groupName(runID)
        arm.cancelled = request.cancelled
        // Destroy (after a signal too) must run to its end: it does not look at the signal.
        defer { arm.cancelled = { false } }
        try arm.call("CreateResourceGroup", .put, arm.groupPath(group), api: AzureARM.resourcesAPI,
                     body: ["location": first.region, "tags": tags])
        journal.add(kind: "resource-group", id: arm.groupPath(group), region: first.region)
        let net = arm.groupPath(group, "/providers/Microsoft.Network")
        let compute = arm.groupPath(group, "/providers/Microsoft.Compute")

        // Accelerated networking per (region, size), from the region's SKU list.
        var accelerated: [String: Bool] = [:]
        for region in Set(entries.map(\.region)).sorted() {
            let skus = try arm.list("ListSkus", "/subscriptions/\(arm.subscription)/providers/Microsoft.Compute/skus?$filter=location%20eq%20'\(region)'",
                                    api: AzureARM.skusAPI)
            for s in skus where s["resourceType"] as? String == "virtualMachines" {
                guard let n = s["name"] as? String else { continue }
                let caps = s["capabilities"] as? [[String: Any]] ?? []
                let on = caps.contains { $0["name"] as? String == "AcceleratedNetworkingEnabled" && ($0["value"] as? String)?.lowercased() == "true" }
                accelerated["\(region)/\(n)"] = on
            }
        }

        // Per region a VNet (10.R.0.0/16) with one subnet (10.R.P.0/24) and one NSG per pair.
        var subnetOf: [String: String] = [:]
        for (r, region) in Set(entries.map(\.region)).sorted().enumerated() {
            try check()
            let pairs = entries.filter { $0.region == region }.flatMap(\.pairNames)
            var subnets: [[String: Any]] = []
            for (p, pair) in pairs.enumerated() {
                let prefix = "10.\(r).\(p).0/24"
                let nsgName = "cb-\(pair)-nsg"
                func rule(_ name: String, _ priority: Int, _ access: String, _ proto: String, _ from: String, _ ports: String) -> [String: Any] {
                    ["name": name, "properties": ["priority": priority, "direction": "Inbound", "access": access, "protocol": proto,
                                                  "sourceAddressPrefix": from, "sourcePortRange": "*",
                                                  "destinationAddressPrefix": "*", "destinationPortRange": ports] as [String: Any]]
                }
                let nsg = try arm.put("CreateNetworkSecurityGroup", "\(net)/networkSecurityGroups/\(nsgName)", api: AzureARM.networkAPI, body: [
                    "location": region, "tags": tags,
                    "properties": ["securityRules": [
                        rule("cloudbench-ssh", 100, "Allow", "Tcp", request.sshFrom, "22"),
                        rule("cloudbench-pair", 110, "Allow", "*", prefix, "*"),
                        rule("cloudbench-deny-vnet", 4000, "Deny", "*", "VirtualNetwork", "*"),
                    ]],
                ], deadline: createDeadline)
                journal.add(kind: "network-security-group", id: nsg["id"] as? String ?? nsgName, region: region)
                subnets.append(["name": "pair-\(p)", "properties": [
                    "addressPrefix": prefix, "networkSecurityGroup": ["id": "\(net)/networkSecurityGroups/\(nsgName)"]] as [String: Any]])
                subnetOf[pair] = "\(net)/virtualNetworks/cb-vnet-\(region)/subnets/pair-\(p)"
            }
            let vnet = try arm.put("CreateVirtualNetwork", "\(net)/virtualNetworks/cb-vnet-\(region)", api: AzureARM.networkAPI, body: [
                "location": region, "tags": tags,
                "properties": ["addressSpace": ["addressPrefixes": ["10.\(r).0.0/16"]], "subnets": subnets] as [String: Any],
            ], deadline: createDeadline)
            journal.add(kind: "virtual-network", id: vnet["id"] as? String ?? "cb-vnet-\(region)", region: region)
        }

        var ppgs: [String: String] = [:]
        for entry in entries where entry.placementGroup {
            try check()
            let path = "\(compute)/proximityPlacementGroups/cb-\(entry.name)-ppg"
            let ppg = try arm.put("CreateProximityPlacementGroup", path, api: AzureARM.computeAPI, body: [
                "location": entry.region, "tags": tags, "properties": ["proximityPlacementGroupType": "Standard"],
            ], deadline: createDeadline)
            journal.add(kind: "proximity-placement-group", id: ppg["id"] as? String ?? path, region: entry.region)
            ppgs[entry.name] = path
        }

        var launched: [(pair: String, entry: String, server: ProvisionedInstance, client: ProvisionedInstance)] = []
        var acceleratedUsed: [String: Bool] = [:]
        for entry in entries {
            let size = Self.vmSize(entry.type)
            guard let image = Self.imageReference(entry.image, size: size) else {
                throw ProvisionError("bad Azure image '\(entry.image ?? "")'; give publisher:offer:sku:version", status: 2)
            }
            let accel = accelerated["\(entry.region)/\(size)"] ?? false
            for pair in entry.pairNames {
                var made: [ProvisionedInstance] = []
                for (index, role) in ["server", "client"].enumerated() {
                    try check()
                    let vm = "cb-\(pair)-\(role)"
                    let zone = entry.zones.isEmpty ? nil : entry.zones[min(index, entry.zones.count - 1)]
                    var ipBody: [String: Any] = ["location": entry.region, "tags": tags, "sku": ["name": "Standard"],
                                                 "properties": ["publicIPAllocationMethod": "Static", "publicIPAddressVersion": "IPv4"]]
                    if let zone { ipBody["zones"] = [zone] }
                    let ipPath = "\(net)/publicIPAddresses/\(vm)-ip"
                    let ip = try arm.put("CreatePublicIPAddress", ipPath, api: AzureARM.networkAPI, body: ipBody, deadline: createDeadline)
                    journal.add(kind: "public-ip", id: ip["id"] as? String ?? ipPath, region: entry.region)
                    let nicPath = "\(net)/networkInterfaces/\(vm)-nic"
                    let nic = try arm.put("CreateNetworkInterface", nicPath, api: AzureARM.networkAPI, body: [
                        "location": entry.region, "tags": tags,
                        "properties": ["enableAcceleratedNetworking": accel, "ipConfigurations": [[
                            "name": "ipconfig1", "properties": [
                                "subnet": ["id": subnetOf[pair] ?? ""], "publicIPAddress": ["id": ipPath],
                                "privateIPAllocationMethod": "Dynamic"] as [String: Any]]]] as [String: Any],
                    ], deadline: createDeadline)
                    journal.add(kind: "network-interface", id: nic["id"] as? String ?? nicPath, region: entry.region)
                    var properties: [String: Any] = [
                        "hardwareProfile": ["vmSize": size],
                        "storageProfile": ["imageReference": image,
                                           "osDisk": ["createOption": "FromImage", "deleteOption": "Delete",
                                                      "managedDisk": ["storageAccountType": "StandardSSD_LRS"]] as [String: Any]] as [String: Any],
                        "osProfile": ["computerName": vm, "adminUsername": sshUser,
                                      "linuxConfiguration": ["disablePasswordAuthentication": true,
                                                             "ssh": ["publicKeys": [["path": "/home/\(sshUser)/.ssh/authorized_keys",
                                                                                     "keyData": request.publicKey]]]] as [String: Any]] as [String: Any],
                        "networkProfile": ["networkInterfaces": [["id": nicPath, "properties": ["primary": true, "deleteOption": "Delete"]] as [String: Any]]],
                        // Managed boot diagnostics: the serial log where cloud-init prints the host keys.
                        "diagnosticsProfile": ["bootDiagnostics": ["enabled": true]],
                    ]
                    if let g = ppgs[entry.name] { properties["proximityPlacementGroup"] = ["id": g] }
                    var vmBody: [String: Any] = ["location": entry.region, "tags": tags, "properties": properties]
                    if let zone { vmBody["zones"] = [zone] }
                    let vmPath = "\(compute)/virtualMachines/\(vm)"
                    journal.add(kind: "virtual-machine", id: vmPath, region: entry.region)
                    let created = try arm.put("CreateVirtualMachine", vmPath, api: AzureARM.computeAPI, body: vmBody,
                                              deadline: request.runningDeadline)
                    let id = created["id"] as? String ?? vmPath
                    vmNames[id] = vm
                    acceleratedUsed[vm] = accel
                    let pub = try arm.call("GetPublicIPAddress", .get, ipPath, api: AzureARM.networkAPI).object
                    let nicNow = try arm.call("GetNetworkInterface", .get, nicPath, api: AzureARM.networkAPI).object
                    guard let address = (pub["properties"] as? [String: Any])?["ipAddress"] as? String else {
                        throw ProvisionError("public IP \(vm)-ip has no address after creation")
                    }
                    let configs = (nicNow["properties"] as? [String: Any])?["ipConfigurations"] as? [[String: Any]] ?? []
                    let priv = (configs.first?["properties"] as? [String: Any])?["privateIPAddress"] as? String ?? address
                    let time = ((created["properties"] as? [String: Any])?["timeCreated"] as? String).flatMap(ProvisionTags.date)
                    made.append(ProvisionedInstance(id: id, publicAddress: address, privateAddress: priv,
                                                    zone: (created["zones"] as? [String])?.first ?? zone ?? "", launchTime: time ?? Date()))
                }
                launched.append((pair, entry.name, made[0], made[1]))
            }
        }
        journal.update { $0.accelerated_networking = acceleratedUsed }
        return launched.map { ProvisionedPair(entry: $0.entry, name: $0.pair, server: $0.server, client: $0.client) }
    }

    // MARK: - host keys

    /// The keys cloud-init printed on each VM's serial log (managed boot diagnostics).
    public func hostKeys(of instances: [ProvisionedInstance]) throws -> [String: [String]] {
        var out: [String: [String]] = [:]
        for i in instances {
            guard let vm = vmNames[i.id] else { continue }
            let path = arm.groupPath(group, "/providers/Microsoft.Compute/virtualMachines/\(vm)/retrieveBootDiagnosticsData?sasUriExpirationTimeInMinutes=10")
            guard let r = try? arm.call("RetrieveBootDiagnosticsData", .post, path, api: AzureARM.computeAPI),
                  let blob = r.object["serialConsoleLogBlobUri"] as? String, let log = try? Self.fetchBlob(blob, plainHTTPToLoopback: arm.armOverridden) else { continue }
            let keys = ConsoleHostKeys.parse(log)
            if !keys.isEmpty { out[i.id] = keys }
        }
        return out
    }

    /// The serial log through its SAS URL (no bearer token: the URL carries its own signature; never logged whole).
    static func fetchBlob(_ url: String, plainHTTPToLoopback: Bool) throws -> String {
        let c = try RESTClient(service: "Azure boot diagnostics", userAgent: "cloudbench (+provision)",
                               plainHTTPToLoopback: plainHTTPToLoopback, authorization: { nil })
        c.attempts = 3
        let reply = try c.call("GetSerialLog", .get, url)
        return String(decoding: reply.body.prefix(8 << 20), as: UTF8.self)
    }

    // MARK: - destroy and sweep

    public func destroy(runID: String, regions: [String], journal: ProvisionJournal?, progress: (String) -> Void) throws -> [String] {
        let name = Self.groupName(runID)
        let path = arm.groupPath(name)
        let exists = try arm.call("GetResourceGroup", .get, path, api: AzureARM.resourcesAPI, accept: [404])
        guard exists.status != 404 else { return [] }
        let vms = (try? arm.list("ListVirtualMachines", arm.groupPath(name, "/providers/Microsoft.Compute/virtualMachines"),
                                 api: AzureARM.computeAPI)) ?? []
        progress("deleting resource group \(name) (\(vms.count) VMs)")
        var created: [Date] = []
        for vm in vms {
            if let t = ((vm["properties"] as? [String: Any])?["timeCreated"] as? String).flatMap(ProvisionTags.date) { created.append(t) }
        }
        try arm.call("DeleteResourceGroup", .delete, path, api: AzureARM.resourcesAPI, accept: [404])
        // Verify: the group is gone only when ARM answers 404 for it.
        let end = Date().addingTimeInterval(deleteDeadline)
        while true {
            let r = try arm.call("GetResourceGroup", .get, path, api: AzureARM.resourcesAPI, accept: [404])
            if r.status == 404 { break }
            guard Date() < end else {
                throw ProvisionError("resource group \(name) was still there after \(Int(deleteDeadline)) s; run `cloudbench destroy \(runID)` again")
            }
            Thread.sleep(forTimeInterval: arm.pause(r.headers.merging(["retry-after": String(Int(pollInterval))], uniquingKeysWith: { a, _ in a })))
        }
        let now = Date()
        journal?.update { r in r.instance_seconds = (r.instance_seconds ?? 0) + created.reduce(0) { $0 + max(0, now.timeIntervalSince($1)) } }
        return ["resource group \(name) (\(vms.count) VMs and everything in it)"]
    }

    /// Resource groups tagged `cloudbench-managed=true` in the subscription (regions do not narrow it).
    public func managedRuns(regions: [String]) throws -> [String: Date] {
        let filter = "$filter=tagName%20eq%20'\(ProvisionTags.managed)'%20and%20tagValue%20eq%20'true'"
        var runs: [String: Date] = [:]
        for g in try arm.list("ListResourceGroups", "/subscriptions/\(arm.subscription)/resourcegroups?\(filter)", api: AzureARM.resourcesAPI) {
            let t = g["tags"] as? [String: String] ?? [:]
            guard let run = t[ProvisionTags.run], Provisioner.isRunID(run), g["name"] as? String == Self.groupName(run) else { continue }
            let d = t[ProvisionTags.created].flatMap(ProvisionTags.date) ?? .distantPast
            runs[run] = min(runs[run] ?? d, d)
        }
        return runs
    }
}
