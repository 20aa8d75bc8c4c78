import CloudbenchCore

/// Proof that a cell's traffic takes its path: the interface the client's route to the server
/// leaves through, and that interface's MTU.
public struct RouteCheck: Sendable, Equatable {
    public var device: String
    public var mtu: Int?
    /// The interface of the hosts' own network, to tell an external overlay from the underlay.
    public var underlayDevice: String?

    /// A command printing `dev mtu underlay-dev` for the route to `address` (and to `underlay`).
    public static func command(to address: String, underlay: String) -> String {
        "d=$(ip -o route get \(address) | sed -n 's/.* dev \\([^ ]*\\).*/\\1/p'); "
            + "u=$(ip -o route get \(underlay) | sed -n 's/.* dev \\([^ ]*\\).*/\\1/p'); "
            + "echo \"$d $(cat /sys/class/net/$d/mtu 2>/dev/null || echo ?) $u\""
    }

    /// The line between the route check's output and the datapath probe's in `commandWithDatapath`.
    static let datapathMarker = "--- datapath ---"

    /// The route check and `DatapathProbe` in one command (one round trip per path instance): the
    /// route line, `datapathMarker`, then the probe's output (none when the probe failed; the
    /// route check's outcome does not depend on it).
    public static func commandWithDatapath(to address: String, underlay: String) -> String {
        command(to: address, underlay: underlay) + "; echo '\(datapathMarker)'; (\(DatapathProbe.command(to: address))) || true"
    }

    /// The two parts of `commandWithDatapath`'s output: the route line, and the probe's output
    /// (nil when the marker is missing or nothing follows it).
    public static func split(_ output: String) -> (route: String, datapath: String?) {
        guard let r = output.range(of: "\n\(datapathMarker)\n") else { return (output, nil) }
        let rest = String(output[r.upperBound...])
        return (String(output[..<r.lowerBound]), rest.isEmpty ? nil : rest)
    }

    public static func parse(_ output: String) -> RouteCheck? {
        let f = output.split(separator: " ").map(String.init)
        guard f.count >= 2, !f[0].isEmpty else { return nil }
        return RouteCheck(device: f[0], mtu: Int(f[1].trimmingCharacters(in: .whitespacesAndNewlines)),
                          underlayDevice: f.count > 2 ? f[2].trimmingCharacters(in: .whitespacesAndNewlines) : nil)
    }

    /// Why this route does not take `setup`'s path, or nil when it does.
    public func problem(for setup: PathSetup) -> String? {
        if let expected = setup.expectedDevice, device != expected {
            return "traffic to \(setup.serverAddress) leaves through \(device), not \(expected); the \(setup.path.name) path is not in use"
        }
        if case .external(let name) = setup.path {
            if device == "lo" { return "the overlay address \(setup.serverAddress) is local to the client; check 'overlays' for \(name)" }
            if let u = underlayDevice, device == u, !setup.namespaced {
                return "traffic to \(setup.serverAddress) leaves through \(device), the hosts' own network, not overlay '\(name)'"
            }
        }
        return nil
    }

    public var json: JSONValue {
        var o: [String: JSONValue] = ["device": .string(device)]
        if let mtu { o["mtu"] = .number(Double(mtu)) }
        if let u = underlayDevice { o["underlay_device"] = .string(u) }
        return .object(o)
    }
}
