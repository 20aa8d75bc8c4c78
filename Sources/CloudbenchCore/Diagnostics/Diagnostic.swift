/// A place in a source file: 1-based line and column.
public struct SourceLocation: Hashable, Sendable, Comparable {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    public static func < (a: SourceLocation, b: SourceLocation) -> Bool {
        (a.file, a.line, a.column) < (b.file, b.line, b.column)
    }
}

/// One problem in a user's input, printed as `file:line:col: message`.
public struct Diagnostic: Hashable, Sendable, CustomStringConvertible, Error {
    public var location: SourceLocation
    public var message: String

    public init(_ location: SourceLocation, _ message: String) {
        self.location = location
        self.message = message
    }

    public var description: String {
        "\(location.file):\(location.line):\(location.column): \(message)"
    }
}

/// Every problem found in one or more input files; thrown when input cannot be used.
public struct InputErrors: Error, CustomStringConvertible, Sendable {
    public var diagnostics: [Diagnostic]
    public init(_ diagnostics: [Diagnostic]) { self.diagnostics = diagnostics.sorted { $0.location < $1.location } }
    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}

/// A one-line problem with a file that has no position (missing, unreadable).
public struct FileError: Error, CustomStringConvertible, Sendable {
    public var path: String
    public var message: String
    public init(_ path: String, _ message: String) { self.path = path; self.message = message }
    public var description: String { "\(path): \(message)" }
}
