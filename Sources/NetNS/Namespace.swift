import Foundation

/// A Linux network namespace, created and removed through `ip netns`.
///
/// Names carry a caller's prefix and this process's pid, so that cleanup can find exactly
/// what one owner made (`Namespace.existing(prefix:)`) and never touches anything else.
public struct Namespace: Hashable, Sendable {
    public let name: String

    public init(existing name: String) { self.name = name }

    /// Creates a namespace named `prefix-<pid>-<n>` with its loopback up and no routes at all.
    public static func create(prefix: String) throws -> Namespace {
        let ns = Namespace(existing: "\(prefix)-\(getpid())-\(Counter.next())")
        try Command.run(["ip", "netns", "add", ns.name])
        do {
            try ns.run(["ip", "link", "set", "lo", "up"])
        } catch {
            ns.delete()
            throw error
        }
        return ns
    }

    /// Names of the namespaces that exist now and start with `prefix`.
    public static func existing(prefix: String) -> [Namespace] {
        let listing = (try? Command.run(["ip", "netns", "list"])) ?? ""
        return listing.split(separator: "\n").compactMap { line in
            let name = String(line.split(separator: " ").first ?? "")
            return name.hasPrefix(prefix) ? Namespace(existing: name) : nil
        }
    }

    /// Runs `argv` inside the namespace and returns its stdout.
    @discardableResult
    public func run(_ argv: [String], input: String? = nil) throws -> String {
        try Command.run(["ip", "netns", "exec", name] + argv, input: input)
    }

    /// Starts `argv` inside the namespace without waiting; the caller owns the process.
    public func spawn(_ argv: [String], stdout: FileHandle? = nil, stderr: FileHandle? = nil,
                      environment: [String: String]? = nil) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try Command.resolve("ip"))
        process.arguments = ["netns", "exec", name] + argv
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = stdout ?? FileHandle.nullDevice
        process.standardError = stderr ?? FileHandle.nullDevice
        if let environment { process.environment = environment }
        try process.run()
        return process
    }

    /// Whether the namespace has a default route (test hosts must not).
    public func hasDefaultRoute() -> Bool {
        let v4 = (try? run(["ip", "-4", "route", "show", "default"])) ?? ""
        let v6 = (try? run(["ip", "-6", "route", "show", "default"])) ?? ""
        return !(v4 + v6).trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
    }

    /// Removes the namespace and, with it, every interface inside it. Safe to call twice.
    public func delete() {
        _ = try? Command.run(["ip", "netns", "delete", name])
    }
}

enum Counter {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var value = 0
    static func next() -> Int {
        lock.lock(); defer { lock.unlock() }
        value += 1
        return value
    }
}
