import CloudbenchCore
import Foundation

/// The inventory a provisioned run writes (`inventories/FLEET-RUNID.yaml`): a normal schema 1
/// inventory that `compare` reads unchanged, with the run's key and known_hosts file.
public enum FleetInventory {
    public static func text(fleet: Fleet, runID: String, pairs: [ProvisionedPair], key: String, knownHosts: String,
                            user: String = "ubuntu", sudo: Bool = true) -> String {
        let r = fleet.run
        var out = """
        # Written by `cloudbench provision` for run \(runID) of \(fleet.file).
        # `cloudbench destroy \(runID)` removes these instances and everything created with them.
        version: 1
        name: \(fleet.name)-\(runID)
        currency: \(fleet.currency)
        ssh:
          user: \(user)
          identity: \(quoted(key))
          known_hosts: \(quoted(knownHosts))
          sudo: \(sudo)
        run:
          tests: [\(r.tests.map(\.rawValue).joined(separator: ", "))]
          duration: \(r.duration)
          warmup: \(r.warmup)
          repetitions: \(r.repetitions)
          paths: [\(r.paths.map(\.name).joined(separator: ", "))]
          streams: [\(r.streams.map(String.init).joined(separator: ", "))]
          directions: [\(r.directions.map(\.rawValue).joined(separator: ", "))]
          message_size: \(r.messageSize)
          udp_rate: \(r.udpRateSearch ? "search" : String(r.udpRate))
          http_size: \(r.httpSize)
          http_count: \(r.httpCount)
          agent_port: \(r.agentPort)
          sustained_after: \(r.sustainedAfter)
        pairs:

        """
        let entries = Dictionary(fleet.entries.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for p in pairs {
            guard let e = entries[p.entry] else { continue }
            out += "  - name: \(p.name)\n    provider: \(e.provider)\n    type: \(quoted(e.type))\n    region: \(e.region)\n"
            if let placement = e.placement { out += "    placement: \(placement.rawValue)\n" }
            for (role, i) in [("server", p.server), ("client", p.client)] {
                out += "    \(role): { address: \(i.publicAddress), test_ip: \(i.privateAddress), zone: \(quoted(i.zone)) }\n"
            }
        }
        return out
    }

    /// known_hosts lines for the public addresses whose keys the console showed.
    public static func knownHosts(pairs: [ProvisionedPair], keys: [String: [String]]) -> String {
        var out = ""
        for i in pairs.flatMap({ [$0.server, $0.client] }) {
            for k in keys[i.id] ?? [] { out += "\(i.publicAddress) \(k)\n" }
        }
        return out
    }

    static func quoted(_ s: String) -> String {
        "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
