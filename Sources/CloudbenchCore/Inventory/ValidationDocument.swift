/// `cloudbench validate --json`: per inventory, whether it is usable, what it holds, its
/// warnings and its errors (docs/json.md).
public struct ValidationDocument: Encodable, Sendable {
    public struct File: Encodable, Sendable {
        public var path: String
        public var ok: Bool
        public var name: String?
        public var pairs: Int?
        public var hosts: Int?
        /// Only when the inventory has `groups:`.
        public var groups: Int? = nil
        public var warnings: [DiagnosticJSON]
        public var errors: [DiagnosticJSON]
    }

    public var schema = "cloudbench-validate/1"
    public var ok: Bool { files.allSatisfy(\.ok) }
    public var files: [File] = []

    public init() {}

    public mutating func add(path: String, inventory: Inventory) {
        files.append(File(path: path, ok: true, name: inventory.name, pairs: inventory.pairs.count, hosts: inventory.hosts.count,
                          warnings: inventory.warnings.map(DiagnosticJSON.init), errors: []))
        if !inventory.groups.isEmpty { files[files.count - 1].groups = inventory.groups.count }
    }

    public mutating func add(path: String, errors: [DiagnosticJSON]) {
        files.append(File(path: path, ok: false, name: nil, pairs: nil, hosts: nil, warnings: [], errors: errors))
    }

    enum CodingKeys: String, CodingKey { case schema, ok, files }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(schema, forKey: .schema)
        try c.encode(ok, forKey: .ok)
        try c.encode(files, forKey: .files)
    }
}
