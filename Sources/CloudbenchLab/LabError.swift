import CloudbenchCore
import Foundation

/// Something the lab cannot do, said in one sentence that tells the user what to do next.
///
/// `isUsage` separates "your input is wrong" (exit status 2) from a failure of the machine
/// or of a tool the lab drives (exit status 1).
public struct LabError: UserFacingError, Sendable {
    public let message: String
    public let isUsage: Bool

    public init(_ message: String, usage: Bool = false) {
        self.message = message
        self.isUsage = usage
    }

    public var description: String { message }
    public var exitStatus: ExitStatus { isUsage ? .badInput : .failures }

    /// Input that is wrong: a bad profile, a bad name, an option out of range.
    public static func usage(_ message: String) -> LabError { LabError(message, usage: true) }
}
