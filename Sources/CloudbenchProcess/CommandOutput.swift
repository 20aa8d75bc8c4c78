/// What a command printed and how it ended: a local program, or a command run on a host over SSH.
public struct CommandOutput: Sendable, Equatable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
    /// True when the command outlived its deadline and was stopped.
    public var timedOut: Bool
    /// The signal name (`KILL`, `TERM`, …) when the command was killed by one (status is then -1 over SSH).
    public var signal: String?

    public init(status: Int32, stdout: String, stderr: String, timedOut: Bool = false, signal: String? = nil) {
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
        self.timedOut = timedOut
        self.signal = signal
    }

    public var succeeded: Bool { status == 0 && !timedOut && signal == nil }
}
