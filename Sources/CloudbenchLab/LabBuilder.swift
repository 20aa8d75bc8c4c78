import Foundation
import NetNS

/// Brings a lab up step by step, recording each step in `state.json` before it touches the system.
///
/// On any error the caller tears down what exists (`LabTeardown`); a killed process leaves
/// the state file and the `cbl-<name>-` prefix for `lab down` to find.
final class LabBuilder {
    let layout: LabLayout
    let files: LabFiles
    let profileText: String
    let log: (String) -> Void
    /// Tests stop the build after this many steps without cleaning up, like a `kill -9` would.
    var abandonAfterSteps: Int?
    /// Tests make the build fail after this many steps, like a tool that exits with an error.
    var failAfterSteps: Int?
    private var steps = 0
    private var state: LabState

    struct Abandoned: Error {}

    init(layout: LabLayout, files: LabFiles, profileText: String, log: @escaping (String) -> Void) {
        self.layout = layout
        self.files = files
        self.profileText = profileText
        self.log = log
        self.state = LabState(layout: layout)
    }

    private func step() throws {
        steps += 1
        if let limit = abandonAfterSteps, steps >= limit { throw Abandoned() }
        if let limit = failAfterSteps, steps >= limit { throw LabError("injected failure after step \(steps)") }
        if LabInterruption.isRequested { throw LabError("interrupted; removed what `lab up` had built") }
    }

    func build() throws -> LabState {
        try prepareDirectory()
        try step()
        try generateKeys()
        try step()
        try buildNetwork()
        if let overlay = layout.profile.overlay { try buildOverlay(overlay) }
        try startSSHServers()
        try waitForSSHServers()
        try writeKnownHostsAndInventory()
        state.complete = true
        try state.write(files)
        return state
    }

    // MARK: files and keys

    private func prepareDirectory() throws {
        let fm = FileManager.default
        try fm.createDirectory(atPath: files.directory, withIntermediateDirectories: true,
                               attributes: [.posixPermissions: 0o700])
        try Data("made by cloudbench lab; `cloudbench lab down` removes this directory\n".utf8)
            .write(to: URL(fileURLWithPath: files.marker))
        try Data(profileText.utf8).write(to: URL(fileURLWithPath: files.profile))
        // Recorded before the first namespace exists, so even a killed `lab up` can be found.
        try state.write(files)
    }

    private func generateKeys() throws {
        let keygen = try ProcessRunner.resolve("ssh-keygen")
        try ProcessRunner.check([keygen, "-q", "-t", "ed25519", "-N", "", "-C", "cloudbench-lab-\(layout.configuration.name)",
                         "-f", files.identity])
        try FileManager.default.copyItem(atPath: files.identity + ".pub", toPath: files.authorizedKeys)
        for instance in layout.instances {
            try FileManager.default.createDirectory(atPath: files.hostDirectory(instance), withIntermediateDirectories: true)
            try ProcessRunner.check([keygen, "-q", "-t", "ed25519", "-N", "", "-C", "cloudbench-lab-\(instance.id)",
                             "-f", files.hostKey(instance)])
        }
    }

    // MARK: namespaces, bridge, links

    private func buildNetwork() throws {
        log("creating \(layout.namespaces.count) namespaces (\(layout.instances.count) instances, controller, fabric)")
        let fabric = layout.fabricNamespace
        try createNamespace(fabric)
        try ProcessRunner.check(["ip", "-n", fabric, "link", "add", layout.bridge, "type", "bridge"])
        try ProcessRunner.check(["ip", "-n", fabric, "link", "set", layout.bridge, "up"])
        try step()

        try createNamespace(layout.controllerNamespace)
        try attach(layout.controllerNamespace, fabricDevice: layout.controllerFabricDevice, address: layout.controllerAddress)
        try step()

        for instance in layout.instances {
            try createNamespace(instance.namespace)
            try attach(instance.namespace, fabricDevice: instance.fabricDevice, address: instance.address)
            // Both directions: what the instance sends, and what the bridge delivers to it.
            try ProcessRunner.check(["tc", "-n", instance.namespace, "qdisc", "replace", "dev", "eth0", "root"] + instance.tokenBucket.tcArguments)
            try ProcessRunner.check(["tc", "-n", fabric, "qdisc", "replace", "dev", instance.fabricDevice, "root"]
                                    + instance.ingressTokenBucket.tcArguments)
            if let cap = instance.packetRateCap { try limitPacketRate(instance, cap) }
            try step()
        }
    }

    /// `pps_limit:`: the nftables cap on what the instance sends (gone with its namespace), and the
    /// stand-in `ethtool` its sshd puts first on the PATH (`SSHServerLaunch`).
    private func limitPacketRate(_ instance: LabInstance, _ cap: PacketRateLimit) throws {
        try Prerequisites.check([("nft", "nftables")])
        log("\(instance.id): at most \(cap.packetsPerSecond) packets/s out (nftables), a stand-in ethtool reporting the drops")
        try Data(cap.script.utf8).write(to: URL(fileURLWithPath: files.packetRateScript(instance)))
        try ProcessRunner.check(PacketRateLimit.applyArguments(namespace: instance.namespace, scriptFile: files.packetRateScript(instance)))
        let ethtool = files.standInEthtool(instance)
        try Data(PacketRateLimit.standInEthtool().utf8).write(to: URL(fileURLWithPath: ethtool))
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: ethtool)
    }

    private func createNamespace(_ name: String) throws {
        try ProcessRunner.check(["ip", "netns", "add", name])
        try ProcessRunner.check(["ip", "-n", name, "link", "set", "lo", "up"])
        // IPv6 would give every interface a link-local address and chatter on the bridge;
        // the lab is IPv4 only. Kernels without IPv6 have nothing to switch off.
        _ = try? ProcessRunner.check(["ip", "netns", "exec", name, "sysctl", "-q", "-w",
                              "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"])
    }

    /// A veth from the bridge to `eth0` in `namespace`, with the address on a /24 and no other route.
    private func attach(_ namespace: String, fabricDevice: String, address: String) throws {
        let fabric = layout.fabricNamespace
        try ProcessRunner.check(["ip", "-n", fabric, "link", "add", fabricDevice, "type", "veth", "peer", "name", "eth0", "netns", namespace])
        try ProcessRunner.check(["ip", "-n", fabric, "link", "set", fabricDevice, "master", layout.bridge, "up"])
        try ProcessRunner.check(["ip", "-n", namespace, "addr", "add", "\(address)/24", "dev", "eth0"])
        try ProcessRunner.check(["ip", "-n", namespace, "link", "set", "eth0", "up"])
    }

    // MARK: external overlay

    /// A VXLAN mesh over the instances' own links, the way Flannel or Weave fastdp build one:
    /// one device per host, head-end replication to every peer, its own /24. As Flannel does,
    /// no address learning: each peer's MAC has a static forwarding entry and a permanent
    /// neighbour entry, so a frame sent to the VXLAN port from elsewhere adds nothing.
    private func buildOverlay(_ overlay: LabProfile.Overlay) throws {
        log("building overlay '\(overlay.name)' (VXLAN \(overlay.vni), UDP \(overlay.port), MTU 1450, no learning)")
        /// A fixed, locally administered MAC from the overlay address's last byte.
        func mac(_ address: String) -> String {
            "02:cb:ee:00:00:" + String(format: "%02x", Int(address.split(separator: ".").last ?? "") ?? 0)
        }
        for instance in layout.instances {
            guard let overlayAddress = instance.overlayAddress else { continue }
            let ns = instance.namespace
            try ProcessRunner.check(["ip", "-n", ns, "link", "add", overlay.name, "address", mac(overlayAddress), "type", "vxlan",
                                     "id", "\(overlay.vni)", "dstport", "\(overlay.port)", "dev", "eth0", "local", instance.address,
                                     "nolearning"])
            try ProcessRunner.check(["ip", "-n", ns, "link", "set", overlay.name, "mtu", "1450"])
            try ProcessRunner.check(["ip", "-n", ns, "addr", "add", "\(overlayAddress)/24", "dev", overlay.name])
            let peers = layout.instances.filter { $0 != instance }
            let batch = peers.flatMap { peer -> [String] in
                var lines = ["fdb append 00:00:00:00:00:00 dev \(overlay.name) dst \(peer.address)"]
                if let a = peer.overlayAddress { lines.append("fdb replace \(mac(a)) dev \(overlay.name) dst \(peer.address) permanent") }
                return lines
            }.joined(separator: "\n") + "\n"
            if !peers.isEmpty { try ProcessRunner.check(["bridge", "-n", ns, "-batch", "-"], input: Data(batch.utf8)) }
            try ProcessRunner.check(["ip", "-n", ns, "link", "set", overlay.name, "up"])
            for peer in peers {
                guard let a = peer.overlayAddress else { continue }
                try ProcessRunner.check(["ip", "-n", ns, "neigh", "replace", a, "lladdr", mac(a), "dev", overlay.name, "nud", "permanent"])
            }
        }
        try step()
    }

    // MARK: sshd

    private func startSSHServers() throws {
        log("starting \(layout.instances.count) sshd")
        // Debian's sshd refuses to start without its privilege separation directory.
        try FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o755])
        let sshd = try ProcessRunner.resolve("sshd")  // absolute: sshd re-executes itself by path
        let usePAM = SSHServerConfig.rootPasswordIsLocked()
        let privateDirectories = SSHServerLaunch.privateDirectories(stateDirectory: files.directory)
        if !privateDirectories.isEmpty {
            log("each instance gets its own empty \(privateDirectories.joined(separator: " and ")) (tmpfs)")
        }
        for instance in layout.instances {
            let config = files.sshdConfig(instance)
            try Data(SSHServerConfig.text(instance: instance, files: files, usePAM: usePAM).utf8)
                .write(to: URL(fileURLWithPath: config))
            // sshd checks its config first and exits non-zero on a mistake, so this throws early.
            try ProcessRunner.check(SSHServerLaunch.argv(instance: instance, files: files, sshd: sshd, privateDirectories: privateDirectories,
                                                         standInEthtool: instance.packetRateCap == nil ? nil : files.standInEthtool(instance)))
            let pid = try waitForPidFile(files.sshdPidFile(instance), instance: instance)
            state.sshdPids[instance.id] = pid
            try state.write(files)
            try step()
        }
    }

    private func waitForPidFile(_ path: String, instance: LabInstance) throws -> Int32 {
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline {
            if let pid = ProcessTable.pid(inFile: path), ProcessTable.isAlive(pid) { return pid }
            usleep(20_000)
        }
        let logText = (try? String(contentsOfFile: files.sshdLog(instance), encoding: .utf8)) ?? ""
        let said = logText.split(separator: "\n").last.map { ": \($0)" } ?? ""
        throw LabError("sshd of \(instance.id) did not start within 5 s\(said) (log: \(files.sshdLog(instance)))")
    }

    private func waitForSSHServers() throws {
        let controller = Namespace(existing: layout.controllerNamespace)
        for instance in layout.instances {
            do {
                _ = try SSHBanner.wait(from: controller, host: instance.address, timeout: 10)
            } catch {
                throw LabError("sshd of \(instance.id) at \(instance.address):22 does not answer from the controller: \(error)")
            }
        }
    }

    // MARK: known_hosts and inventory

    private func writeKnownHostsAndInventory() throws {
        var lines: [String] = []
        for instance in layout.instances {
            let pub = try String(contentsOfFile: files.hostKey(instance) + ".pub", encoding: .utf8)
            let fields = pub.split(separator: " ")
            guard fields.count >= 2 else { throw LabError("host key \(files.hostKey(instance)).pub is malformed") }
            lines.append("\(instance.address) \(fields[0]) \(fields[1])")
        }
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: files.knownHosts))
        try Data(LabInventory.yaml(layout: layout, files: files).utf8).write(to: URL(fileURLWithPath: files.inventory))
        if let script = BurstRefill.script(layout: layout) {
            try Data(script.utf8).write(to: URL(fileURLWithPath: files.beforeCell))
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: files.beforeCell)
        }
    }
}
