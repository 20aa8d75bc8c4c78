import CloudbenchCore
import Foundation

/// A price refresh that could not be done, with one sentence saying what happened and what to do.
///
/// Messages name URLs only through `RedactedURL`, and never contain tokens or secret keys.
public struct PricingError: UserFacingError, Sendable, Equatable {
    public var message: String
    /// True when the user's own input is wrong (exit status 2), false for network and API problems.
    public var isInputError: Bool

    public init(_ message: String, input: Bool = false) {
        self.message = message
        self.isInputError = input
    }

    public var description: String { message }
    public var exitStatus: ExitStatus { isInputError ? .badInput : .failures }
}
