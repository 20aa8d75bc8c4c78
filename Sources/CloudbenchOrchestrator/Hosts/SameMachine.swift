/// One machine under two addresses (a public and a private one, a DNS name and its IP): the
/// inventory sees two hosts, but they share the machine's CPU and links, so running a cell on
/// each at once would measure each against the other. Hosts whose SSH host key is the same are
/// one machine: `merge` maps every address of it onto one `RemoteHost` (the first in address
/// order), which the scheduler then never puts in two cells at once.
public enum SameMachine {
    /// The hosts by endpoint, the addresses of one machine sharing one `RemoteHost`, and one
    /// note per machine reached under more than one address.
    public static func merge(_ hosts: [String: RemoteHost]) -> (hosts: [String: RemoteHost], notes: [String]) {
        var byKey: [String: (endpoint: String, host: RemoteHost)] = [:]
        var out: [String: RemoteHost] = [:]
        var also: [String: [String]] = [:]
        for endpoint in hosts.keys.sorted() {
            let host = hosts[endpoint]!
            guard let key = host.shell.connection?.hostKeyFingerprint, !key.isEmpty else {
                out[endpoint] = host
                continue
            }
            if let first = byKey[key] {
                out[endpoint] = first.host
                also[first.endpoint, default: []].append(endpoint)
            } else {
                byKey[key] = (endpoint, host)
                out[endpoint] = host
            }
        }
        let notes = also.keys.sorted().map { first in
            let key = hosts[first]!.shell.connection!.hostKeyFingerprint
            return "hosts \(([first] + also[first]!).joined(separator: ", ")) are one machine (same host key \(key)): "
                + "scheduled as one host, never in two cells at once"
        }
        return (out, notes)
    }
}
