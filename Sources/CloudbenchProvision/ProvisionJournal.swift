import CloudbenchCore
import Foundation

/// The run's record of provisioning, `runs/RUNID/provision.json`: the estimate, every resource the
/// moment it exists, the pairs, and at destroy the instance-seconds actually used.
///
/// Rewritten whole (atomically) after each change; never holds a credential or the private key.
public final class ProvisionJournal: @unchecked Sendable {
    public struct Resource: Codable, Sendable, Hashable {
        /// `key-pair`, `security-group`, `placement-group`, `instance`.
        public var kind: String
        public var id: String
        public var region: String
    }

    public struct EstimateLine: Codable, Sendable, Hashable {
        public var item: String
        public var quantity: String
        public var amount: String
        public var currency: String
    }

    public struct Record: Codable, Sendable {
        public var schema = 1
        public var run_id: String
        public var fleet: String
        public var provider: String
        public var regions: [String]
        public var created_at: String
        public var estimate_total: String
        public var estimate_currency: String
        public var estimate_billed_seconds_each: Int
        public var estimate: [EstimateLine]
        public var resources: [Resource] = []
        public var pairs: [ProvisionedPair] = []
        public var inventory: String?
        public var destroyed_at: String?
        /// Launch to observed termination, summed over instances.
        public var instance_seconds: Double?
        /// EC2 action → calls, while provisioning and while destroying.
        public var provision_api_calls: [String: Int] = [:]
        public var destroy_api_calls: [String: Int] = [:]
        /// Azure: VM name → whether its NIC has accelerated networking (the size supports it in the region).
        public var accelerated_networking: [String: Bool]?
    }

    public let path: String
    public private(set) var record: Record
    private let lock = NSLock()

    public init(path: String, record: Record) throws {
        self.path = path
        self.record = record
        try save()
    }

    public static func load(path: String) throws -> ProvisionJournal {
        guard let data = FileManager.default.contents(atPath: path), data.count < 16 << 20 else {
            throw FileError(path, "no provisioning record here")
        }
        do {
            let dec = JSONDecoder()
            dec.dateDecodingStrategy = .iso8601
            let record = try dec.decode(Record.self, from: data)
            return try ProvisionJournal(path: path, record: record)
        } catch let e as FileError { throw e } catch {
            throw FileError(path, "not a provisioning record cloudbench can read (\(error))")
        }
    }

    public func update(_ change: (inout Record) -> Void) {
        lock.lock()
        change(&record)
        lock.unlock()
        try? save()
    }

    public func add(kind: String, id: String, region: String) {
        update { $0.resources.append(Resource(kind: kind, id: id, region: region)) }
    }

    private func save() throws {
        lock.lock()
        let r = record
        lock.unlock()
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        enc.dateEncodingStrategy = .iso8601
        do {
            try enc.encode(r).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw FileError(path, "cannot write the provisioning record: \(error.localizedDescription)")
        }
    }
}
