import Foundation

/// Paths inside this repository, found from this source file.
enum RepoPaths {
    static let root: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    static var providers: String { "\(root)/providers" }
    static var fixtures: String { "\(root)/Tests/CloudbenchCoreTests/Fixtures" }
    static var reference: String { "\(root)/../shared/reference" }
}
