import Foundation

/// The one way a command's `--json` document is written: keys sorted, two-space indents, one
/// document ending in a newline. Numbers that are not finite never reach it (values are optional).
public enum JSONOutput {
    public static func encode<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self) + "\n"
    }
}

/// A problem at a position, as `--json` documents carry it.
public struct DiagnosticJSON: Encodable, Sendable, Equatable {
    public var file: String
    public var line: Int?
    public var column: Int?
    public var message: String

    public init(_ d: Diagnostic) {
        file = d.location.file
        line = d.location.line
        column = d.location.column
        message = d.message
    }

    public init(_ e: FileError) {
        file = e.path
        message = e.message
    }
}
