import CloudbenchCore

/// `cloudbench preflight`: each overlay namespace of the inventory (an overlay address given with
/// `netns:`, on a path the pair measures) found on its ready host, with the address on one of its
/// interfaces — what `compare` checks as it opens the path, ahead of the run. Nothing is deployed.
public enum PreflightNamespaces {
    /// One namespace on one host: its path there, or why it cannot be used.
    public struct Finding: Sendable, Equatable {
        public var host: String
        public var overlay: String
        public var namespace: String
        public var address: String
        public var path: String?
        public var problem: String?
        public var ok: Bool { problem == nil }
    }

    /// The namespaces to check: one per host and overlay, in inventory order.
    static func wanted(_ inventory: Inventory) -> [(instance: Instance, overlay: String, namespace: OverlayNamespace, address: String)] {
        var seen: Set<String> = []
        var out: [(Instance, String, OverlayNamespace, String)] = []
        for pair in inventory.pairs {
            for path in pair.paths {
                guard case .external(let overlay) = path else { continue }
                for instance in [pair.server, pair.client] {
                    guard let ns = instance.overlayNamespaces[overlay], let address = instance.overlays[overlay],
                          seen.insert("\(instance.endpoint) \(overlay)").inserted else { continue }
                    out.append((instance, overlay, ns, address))
                }
            }
        }
        return out
    }

    /// `checked` is in `inventory.hosts` order (as `PreflightTarget.all` makes it); hosts that are
    /// not ready are left out (their row says why).
    public static func check(_ inventory: Inventory, checked: [CheckedHost]) async -> [Finding] {
        var byEndpoint: [String: (label: String, shell: RemoteShell, facts: HostFacts, sudo: Bool)] = [:]
        for (host, c) in zip(inventory.hosts, checked) where c.row.ready {
            guard let shell = c.shell, let facts = c.facts else { continue }
            byEndpoint[host.endpoint] = (c.row.host, shell, facts, host.ssh.sudo)
        }
        let wanted = Self.wanted(inventory)
        return await withTaskGroup(of: (Int, Finding)?.self) { group in
            for (i, w) in wanted.enumerated() {
                guard let h = byEndpoint[w.instance.endpoint] else { continue }
                group.addTask {
                    var finding = Finding(host: h.label, overlay: w.overlay, namespace: "\(w.namespace)", address: w.address)
                    // Only `run` is used: no agent is needed for the look-up.
                    let host = RemoteHost(shell: h.shell, facts: h.facts, sudoAllowed: h.sudo, agentSHA: "")
                    guard host.hasRoot else {
                        finding.problem = "entering a namespace needs root; log in as root or set 'sudo: true' with passwordless sudo"
                        return (i, finding)
                    }
                    do { finding.path = try await NamespaceResolver().resolve(w.namespace, address: w.address, on: host) }
                    catch { finding.problem = "\(error)" }
                    return (i, finding)
                }
            }
            var found: [(Int, Finding)] = []
            for await f in group { if let f { found.append(f) } }
            return found.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }

    /// One line per namespace: `overlay bench on 10.0.0.4: namespace container:bench-a at /proc/123/ns/net holds 10.244.1.2`, or the problem.
    public static func render(_ findings: [Finding]) -> String {
        findings.map { f in
            "overlay \(f.overlay) on \(f.host): " + (f.problem.map { "not usable: \($0)" }
                ?? "namespace \(f.namespace) at \(f.path ?? "?") holds \(f.address)") + "\n"
        }.joined()
    }
}

/// `preflight --json`: each overlay namespace (docs/json.md).
public struct PreflightNamespaceDocument: Encodable, Sendable {
    public var host, overlay, namespace, address: String
    public var path: String?
    public var ok: Bool
    public var error: String?

    public init(_ f: PreflightNamespaces.Finding) {
        host = f.host
        overlay = f.overlay
        namespace = f.namespace
        address = f.address
        path = f.path
        ok = f.ok
        error = f.problem
    }
}
