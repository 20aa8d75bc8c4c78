import Foundation
import Testing

/// Compares output with a committed file byte for byte; `CLOUDBENCH_UPDATE_GOLDEN=1` rewrites
/// the file instead (regenerate on purpose, then review the diff).
enum GoldenFile {
    static let root: String = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path
    static let directory = "\(root)/Tests/CloudbenchReportTests/Golden"

    static func check(_ actual: String, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let path = "\(directory)/\(name)"
        if ProcessInfo.processInfo.environment["CLOUDBENCH_UPDATE_GOLDEN"] == "1" {
            try actual.write(toFile: path, atomically: true, encoding: .utf8)
            return
        }
        guard let expected = FileManager.default.contents(atPath: path) else {
            Issue.record("missing golden file \(path); run with CLOUDBENCH_UPDATE_GOLDEN=1 to create it", sourceLocation: sourceLocation)
            return
        }
        let exp = String(decoding: expected, as: UTF8.self)
        if exp != actual {
            let a = actual.split(separator: "\n", omittingEmptySubsequences: false)
            let e = exp.split(separator: "\n", omittingEmptySubsequences: false)
            let i = (0..<min(a.count, e.count)).first { a[$0] != e[$0] } ?? min(a.count, e.count)
            Issue.record("""
                \(name) differs from the golden file at line \(i + 1):
                expected: \(i < e.count ? String(e[i]) : "<end>")
                actual:   \(i < a.count ? String(a[i]) : "<end>")
                (CLOUDBENCH_UPDATE_GOLDEN=1 regenerates it on purpose)
                """, sourceLocation: sourceLocation)
        }
    }
}

/// The repository and the reference data beside it (CI has ../shared next to the clone; the
/// committed copy under Fixtures stands in when it is not there).
enum TestPaths {
    static var providers: String { "\(GoldenFile.root)/providers" }
    static var referenceCSV: String {
        let shared = "\(GoldenFile.root)/../shared/reference/reference-study-2015.csv"
        return FileManager.default.fileExists(atPath: shared)
            ? shared : "\(GoldenFile.root)/Tests/CloudbenchReportTests/Fixtures/reference-study-2015.csv"
    }
}
