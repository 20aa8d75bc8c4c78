import CloudbenchCore
import Foundation

/// One cloud (or the lab) as the provisioning engine drives it: AWS, DigitalOcean and Azure
/// (`CloudProviders.make`) and the lab implement the same calls.
///
/// Every resource a provider creates carries the run's tags (`cloudbench-run` = RUNID,
/// `cloudbench-managed` = true, `cloudbench-created` = its time), and is written to the run's
/// journal the moment it exists, so `destroy` finds it whatever happened after.
public protocol ProvisionProvider: AnyObject {
    /// `aws`, `digitalocean`, `azure`, as fleets and run records name it.
    var name: String { get }
    /// Creates key, firewall rules, placement and instances for every pair and waits until they run.
    func create(_ request: ProvisionRequest, journal: ProvisionJournal) throws -> [ProvisionedPair]
    /// The SSH host keys each instance has printed so far (instance id → `type base64` lines).
    func hostKeys(of instances: [ProvisionedInstance]) throws -> [String: [String]]
    /// Removes everything tagged with `runID` in `regions`; idempotent. Returns what it removed, one line each.
    func destroy(runID: String, regions: [String], journal: ProvisionJournal?, progress: (String) -> Void) throws -> [String]
    /// Runs that have anything tagged `cloudbench-managed` in `regions`, with their oldest creation time.
    func managedRuns(regions: [String]) throws -> [String: Date]
    /// API action → calls made so far.
    var apiCalls: [String: Int] { get }
    /// The login of its images (`ubuntu` on AWS's Ubuntu) and whether it needs sudo.
    var sshUser: String { get }
    var sshSudo: Bool { get }
}

/// What the engine asks a provider to create.
public struct ProvisionRequest: Sendable {
    public var runID: String
    public var fleet: Fleet
    /// The run's public key, one OpenSSH line (`ssh-ed25519 AAAA… cloudbench-RUNID`).
    public var publicKey: String
    /// The only source allowed to reach SSH (`203.0.113.7/32`).
    public var sshFrom: String
    public var createdAt: Date
    /// Seconds to wait for every instance to run.
    public var runningDeadline: Double
    /// Checked between API calls: a signal stops creating (the engine then destroys).
    public var cancelled: @Sendable () -> Bool

    public init(runID: String, fleet: Fleet, publicKey: String, sshFrom: String, createdAt: Date,
                runningDeadline: Double, cancelled: @escaping @Sendable () -> Bool) {
        self.runID = runID
        self.fleet = fleet
        self.publicKey = publicKey
        self.sshFrom = sshFrom
        self.createdAt = createdAt
        self.runningDeadline = runningDeadline
        self.cancelled = cancelled
    }

    /// The tags every resource of the run carries.
    public var tags: [(String, String)] {
        [(ProvisionTags.run, runID), (ProvisionTags.managed, "true"), (ProvisionTags.created, ProvisionTags.time(createdAt))]
    }
}

/// The tag names `destroy` and `sweep` find resources by (docs/provision.md).
public enum ProvisionTags {
    public static let run = "cloudbench-run"
    public static let managed = "cloudbench-managed"
    public static let created = "cloudbench-created"

    public static func time(_ date: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: date)
    }

    public static func date(_ text: String) -> Date? {
        let f = ISO8601DateFormatter()
        if let d = f.date(from: text) { return d }
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.date(from: text)
    }
}

/// One created instance.
public struct ProvisionedInstance: Codable, Sendable, Hashable {
    public var id: String
    public var publicAddress: String
    public var privateAddress: String
    public var zone: String
    public var launchTime: Date?

    public init(id: String, publicAddress: String, privateAddress: String, zone: String, launchTime: Date?) {
        self.id = id
        self.publicAddress = publicAddress
        self.privateAddress = privateAddress
        self.zone = zone
        self.launchTime = launchTime
    }
}

/// One pair of created instances, named as the written inventory names it.
public struct ProvisionedPair: Codable, Sendable, Hashable {
    public var entry: String
    public var name: String
    public var server: ProvisionedInstance
    public var client: ProvisionedInstance

    public init(entry: String, name: String, server: ProvisionedInstance, client: ProvisionedInstance) {
        self.entry = entry
        self.name = name
        self.server = server
        self.client = client
    }
}

/// A provisioning step that cannot go on, with what to do. `status` is the exit status.
public struct ProvisionError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var status: Int32

    public init(_ message: String, status: Int32 = 1) {
        self.message = message
        self.status = status
    }

    public var description: String { message }
}

extension ProvisionError: UserFacingError {
    public var exitStatus: ExitStatus { ExitStatus(rawValue: status) ?? .failures }
}
