import Foundation
import Testing
@testable import CloudbenchCore

@Suite("SHA-256")
struct SHA256Tests {
    @Test("FIPS 180-4 vectors", arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
    ])
    func vectors(input: String, hex: String) {
        var s = SHA256()
        s.update(Array(input.utf8))
        #expect(SHA256.hex(s.finish()) == hex)
    }

    @Test("a file hashes like sha256sum does, across chunk boundaries")
    func file() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("cb-sha-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let bytes = (0..<(3 << 20) + 17).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        p.arguments = [path]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        p.waitUntilExit()
        let expected = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).split(separator: " ")[0]
        #expect(try SHA256.hex(ofFile: path) == String(expected))
    }
}
