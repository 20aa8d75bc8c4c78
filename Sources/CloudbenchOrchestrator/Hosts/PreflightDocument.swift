/// `cloudbench preflight --json`: one entry per host with what the table shows, and how many
/// are ready (docs/json.md).
public struct PreflightDocument: Encodable, Sendable {
    public struct Host: Encodable, Sendable {
        public var host, role, pair, user: String
        /// Not known (the connection failed before it was seen): absent.
        public var auth, hostKey, arch, kernel, glibc, sudo, agent, upload: String?
        public var ready: Bool
        public var error: String?

        enum CodingKeys: String, CodingKey {
            case host, role, pair, user, auth, arch, kernel, glibc, sudo, agent, upload, ready, error
            case hostKey = "host_key"
        }
    }

    public var schema = "cloudbench-preflight/1"
    public var hosts: [Host]
    public var ready: Int
    public var total: Int
    /// With `--ports`: each pair's reachability preflight; absent otherwise.
    public var pairs: [PreflightPortsDocument]?
    /// Each overlay namespace (`netns:`) on a ready host; absent when the inventory names none.
    public var namespaces: [PreflightNamespaceDocument]?

    public init(_ rows: [PreflightRow]) {
        // The table's "-" and "n/a" stand for nothing known.
        func known(_ s: String) -> String? { s == "-" || s == "n/a" || s.isEmpty ? nil : s }
        hosts = rows.map { r in
            Host(host: r.host, role: r.role, pair: r.pair, user: r.user, auth: known(r.auth), hostKey: known(r.hostKey.rawValue),
                 arch: known(r.arch), kernel: known(r.kernel), glibc: known(r.glibc), sudo: known(r.sudo), agent: known(r.agent),
                 upload: known(r.upload),
                 ready: r.ready, error: r.error)
        }
        ready = rows.filter(\.ready).count
        total = rows.count
    }
}
