@testable import CloudbenchSSH
import CloudbenchTestSupport
import Foundation
import Testing

/// known_hosts parsing and matching without a network.
@Suite("known_hosts")
struct KnownHostsTests {
    static let keyA = sampleKey(type: "ssh-ed25519", fill: 1)
    static let keyB = sampleKey(type: "ssh-ed25519", fill: 2)
    static let ecdsa = sampleKey(type: "ecdsa-sha2-nistp256", fill: 3)

    /// A syntactically valid public key blob: type string, then 32 bytes.
    static func sampleKey(type: String, fill: UInt8) -> Data {
        var d = Data([0, 0, 0, UInt8(type.utf8.count)]) + Data(type.utf8)
        d += Data([0, 0, 0, 32]) + Data(repeating: fill, count: 32)
        return d
    }

    static func file(_ text: String) throws -> KnownHosts {
        let path = NSTemporaryDirectory() + "kh-\(getpid())-\(UUID().uuidString)"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        return KnownHosts(path: path)
    }

    @Test("host patterns", arguments: [
        ("web-1", "web-1", true),
        ("WEB-1", "web-1", true),
        ("web-*", "web-12", true),
        ("web-?", "web-12", false),
        ("*.example.com,!bad.example.com", "good.example.com", true),
        ("*.example.com,!bad.example.com", "bad.example.com", false),
        ("10.0.0.4", "[10.0.0.4]:2222", false),
        ("[10.0.0.4]:2222", "[10.0.0.4]:2222", true),
        ("[10.0.0.*]:2222", "[10.0.0.9]:2222", true),
        ("a,b,c", "b", true),
        ("!b", "b", false),
    ])
    func patterns(field: String, name: String, expected: Bool) {
        #expect(KnownHosts.patterns(field, match: name) == expected)
    }

    @Test("a hashed entry matches only its own name")
    func hashed() {
        // |1|salt|HMAC-SHA1(salt, name), computed here the way OpenSSH does.
        let salt = Data((0..<20).map { UInt8($0) })
        let hash = Digest.hmacSHA1(key: salt, message: Data("[10.1.2.3]:2222".utf8))
        let field = "|1|\(salt.base64EncodedString())|\(hash.base64EncodedString())"
        #expect(KnownHosts.patterns(field, match: "[10.1.2.3]:2222"))
        #expect(!KnownHosts.patterns(field, match: "10.1.2.3"))
    }

    @Test("HMAC-SHA1 matches RFC 2202 test case 2")
    func hmacVector() {
        let mac = Digest.hmacSHA1(key: Data("Jefe".utf8), message: Data("what do ya want for nothing?".utf8))
        #expect(Digest.hex(mac) == "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79")
    }

    @Test("matching by key type: same key known, other key changed, other type unknown")
    func matching() throws {
        let kh = try Self.file("""
        # a comment
        garbage that is not an entry
        web-1 ssh-ed25519 \(Self.keyA.base64EncodedString())
        web-1 ssh-ed25519
        web-1 ssh-rsa \(Self.keyA.base64EncodedString())
        [web-1]:2222 ecdsa-sha2-nistp256 \(Self.ecdsa.base64EncodedString())
        """)
        #expect(kh.match(host: "web-1", port: 22, keyType: "ssh-ed25519", key: Self.keyA) == .matches(line: 3))
        #expect(kh.match(host: "web-1", port: 22, keyType: "ssh-ed25519", key: Self.keyB) == .mismatch(line: 3))
        #expect(kh.match(host: "web-1", port: 22, keyType: "ecdsa-sha2-nistp256", key: Self.ecdsa) == .notFound)
        #expect(kh.match(host: "web-1", port: 2222, keyType: "ecdsa-sha2-nistp256", key: Self.ecdsa) == .matches(line: 6))
        #expect(kh.match(host: "web-2", port: 22, keyType: "ssh-ed25519", key: Self.keyA) == .notFound)
        // The line whose text type disagrees with its blob (line 5) is ignored, not trusted.
        #expect(kh.knownTypes(host: "web-1", port: 22) == ["ssh-ed25519"])
    }

    @Test("a @revoked key is refused even when another line lists it")
    func revoked() throws {
        let kh = try Self.file("""
        web-1 ssh-ed25519 \(Self.keyA.base64EncodedString())
        @revoked * ssh-ed25519 \(Self.keyA.base64EncodedString())
        @cert-authority * ssh-ed25519 \(Self.keyB.base64EncodedString())
        """)
        #expect(kh.match(host: "web-1", port: 22, keyType: "ssh-ed25519", key: Self.keyA) == .revoked(line: 2))
        // A CA line is not a host key for anyone.
        #expect(kh.match(host: "web-1", port: 22, keyType: "ssh-ed25519", key: Self.keyB) == .mismatch(line: 1))
    }

    @Test("append creates the file 0600 with OpenSSH's format, fixing a missing final newline")
    func append() throws {
        let dir = NSTemporaryDirectory() + "kh-\(getpid())-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/.ssh/known_hosts"
        try KnownHosts.append(path: path, host: "10.0.0.4", port: 22, keyType: "ssh-ed25519", key: Self.keyA)
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        // Someone's editor left no newline at the end.
        let handle = FileHandle(forWritingAtPath: path)!
        handle.seekToEndOfFile()
        handle.write(Data("# note".utf8))
        try handle.close()
        try KnownHosts.append(path: path, host: "10.0.0.4", port: 2222, keyType: "ssh-ed25519", key: Self.keyB)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text == """
        10.0.0.4 ssh-ed25519 \(Self.keyA.base64EncodedString())
        # note
        [10.0.0.4]:2222 ssh-ed25519 \(Self.keyB.base64EncodedString())

        """)
    }

    @Test("fingerprints use OpenSSH's SHA256 format")
    func fingerprint() {
        // sha256("") in base64 without padding, as `ssh-keygen -l` would print for an empty blob.
        #expect(Digest.fingerprint(Data()) == "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU")
    }
}
