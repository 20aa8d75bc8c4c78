import Foundation
import Testing
@testable import CloudbenchCore

@Suite("Result writer: a cut last line, a full disk")
struct ResultWriterTests {
    typealias TempDir = ResultStoreTests.TempDir

    @Test("after a cut last line the next record starts on a line of its own: the cut line is kept, the record is whole")
    func cutLastLine() throws {
        let dir = try TempDir()
        let path = "\(dir.path)/run.jsonl"
        let w = try ResultWriter(path: path)
        try w.append(ResultStoreTests.record("run-a", 1))
        let partial = String(try ResultStoreTests.record("run-a", 2).jsonLine().prefix(57))
        let h = try #require(FileHandle(forWritingAtPath: path))
        h.seekToEndOfFile(); h.write(Data(partial.utf8)); h.closeFile()

        // The same writer (a run that goes on) and a new one (a resumed run) both start afresh.
        try w.append(ResultStoreTests.record("run-a", 3))
        try ResultWriter(path: path).append(ResultStoreTests.record("run-a", 4))
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 5 && lines[4].isEmpty)
        #expect(lines[1] == Substring(partial))
        let loaded = try ResultStore.load(paths: [path])
        #expect(loaded.records.map(\.repetition) == [1, 3, 4])
        #expect(loaded.warnings.count == 1 && loaded.warnings.first?.line == 2)
    }

    @Test("on a full disk the record that does not fit is refused with the reason and taken back off; those before stay whole")
    func fullDisk() throws {
        guard getuid() == 0 else { return }  // mounting a small tmpfs needs root, as the lab tests do
        let dir = try TempDir()
        let mountPoint = dir.path + "/small"
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        let mount = Process()
        mount.executableURL = URL(fileURLWithPath: "/bin/mount")
        mount.arguments = ["-t", "tmpfs", "-o", "size=64k", "cbwriter", mountPoint]
        try mount.run(); mount.waitUntilExit()
        try #require(mount.terminationStatus == 0)
        defer {
            let umount = Process()
            umount.executableURL = URL(fileURLWithPath: "/bin/umount")
            umount.arguments = [mountPoint]
            try? umount.run(); umount.waitUntilExit()
        }
        let path = mountPoint + "/run.jsonl"
        let w = try ResultWriter(path: path)
        var written = 0
        var refusal: Error?
        for n in 0..<2000 {
            // The helper's time has the repetition as its day: keep it within 1...9.
            do { try w.append(ResultStoreTests.record("run-\(n)", n % 9 + 1)); written += 1 } catch { refusal = error; break }
        }
        let said = "\(try #require(refusal))"
        #expect(said.contains(path) && said.contains("No space left on device"))
        #expect(written > 10)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.hasSuffix("\n"))
        let loaded = try ResultStore.load(paths: [path])
        #expect(loaded.records.count == written && loaded.warnings.isEmpty, "\(loaded.records.count) of \(written), \(loaded.warnings.prefix(2)), \(text.utf8.count) bytes")
    }
}
