/// A local command that ran and failed (or outlived its deadline), with what it said on stderr.
public struct CommandError: Error, CustomStringConvertible, Sendable {
    public let argv: [String]
    public let status: Int32
    public let stderr: String
    public let timedOut: Bool

    public init(argv: [String], status: Int32, stderr: String, timedOut: Bool = false) {
        self.argv = argv
        self.status = status
        self.stderr = stderr
        self.timedOut = timedOut
    }

    public var description: String {
        let said = stderr.trimmingCharacters(in: .whitespacesAndNewlines)
        let how = timedOut ? "did not finish in time and was stopped" : "exited with status \(status)"
        return "`\(argv.joined(separator: " "))` \(how)" + (said.isEmpty ? "" : ": \(said)")
    }
}
