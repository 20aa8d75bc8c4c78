@_exported import CloudbenchProcess
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
        try ProcessRunner.check(["ip", "netns", "add", ns.name])
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
        let listing = (try? ProcessRunner.check(["ip", "netns", "list"])) ?? ""
        return listing.split(separator: "\n").compactMap { line in
            let name = String(line.split(separator: " ").first ?? "")
            return name.hasPrefix(prefix) ? Namespace(existing: name) : nil
        }
    }

    /// Runs `argv` inside the namespace and returns its stdout.
    @discardableResult
    public func run(_ argv: [String], input: String? = nil) throws -> String {
        try ProcessRunner.check(["ip", "netns", "exec", name] + argv, input: input.map { Data($0.utf8) })
    }

    /// Runs `argv` inside the namespace with a deadline: a stuck peer must not hang `lab` or a test.
    public func output(of argv: [String], environment: [String: String]? = nil, deadline seconds: Double) throws -> CommandOutput {
        try ProcessRunner.run(["ip", "netns", "exec", name] + argv, environment: environment, deadline: seconds)
    }

    /// Starts `argv` inside the namespace without waiting; the caller owns the process.
    public func spawn(_ argv: [String], stdout: FileHandle? = nil, stderr: FileHandle? = nil,
                      environment: [String: String]? = nil) throws -> ChildProcess {
        try ProcessRunner.start(["ip", "netns", "exec", name] + argv, stdout: stdout, stderr: stderr, environment: environment)
    }

    /// Whether the namespace has a default route (test hosts must not).
    public func hasDefaultRoute() -> Bool {
        let v4 = (try? run(["ip", "-4", "route", "show", "default"])) ?? ""
        let v6 = (try? run(["ip", "-6", "route", "show", "default"])) ?? ""
        return !(v4 + v6).trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
    }

    /// Removes the namespace and, with it, every interface inside it. Safe to call twice.
    public func delete() {
        _ = try? ProcessRunner.check(["ip", "netns", "delete", name])
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
