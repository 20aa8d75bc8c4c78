/// How a cloudbench command ends, as scripts see it.
public enum ExitStatus: Int32, Sendable {
    /// Everything asked for was done.
    case ok = 0
    /// Something of the world failed: a host, a cell, the network, a tool.
    case failures = 1
    /// The user's input is wrong (a file, a flag, an inventory); fixing it is theirs to do.
    case badInput = 2
    /// Requested cells were skipped (a path needing root on a host without sudo); `compare
    /// --allow-skipped` makes this 0.
    case skipped = 3
    /// A limit refused the work (reserved: a cost limit).
    case refusedByLimit = 4
    /// Ctrl-C (SIGINT) stopped the run; what was finished is kept.
    case interrupted = 130
}

/// An error a person reads and acts on: every module's errors adopt it, and only the CLI's one
/// door prints them and picks the exit status from them (`cloudbench/ErrorDoor.swift`).
public protocol UserFacingError: Error, CustomStringConvertible {
    /// `.badInput` when the user can fix their input, `.failures` otherwise.
    var exitStatus: ExitStatus { get }
    /// Problems with a position, printed as `file:line:col: message`, one a line; empty for an
    /// error that is one sentence (its `description`).
    var diagnostics: [Diagnostic] { get }
}

extension UserFacingError {
    public var diagnostics: [Diagnostic] { [] }
}

extension InputErrors: UserFacingError {
    public var exitStatus: ExitStatus { .badInput }
}

extension FileError: UserFacingError {
    public var exitStatus: ExitStatus { .badInput }
}
