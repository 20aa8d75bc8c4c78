import Foundation

/// What a private key file is, learnt without decrypting it: its type and whether it needs a
/// passphrase. This lets an RSA key or a missing passphrase get its own clear message.
struct PrivateKeyFile: Equatable {
    /// `ssh-ed25519`, `ecdsa-sha2-nistp256`, `ssh-rsa`, `ssh-dss`, or `unknown`.
    var keyType: String
    var encrypted: Bool

    var isRSA: Bool { keyType == "ssh-rsa" }

    enum Problem: Error { case unreadable(String), unrecognized }

    static func inspect(path: String) throws -> PrivateKeyFile {
        guard FileManager.default.fileExists(atPath: path) else { throw Problem.unreadable("no such file") }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw Problem.unreadable(access(path, R_OK) == 0 ? "not a text key file" : "permission denied")
        }
        return try inspect(text: text)
    }

    static func inspect(text: String) throws -> PrivateKeyFile {
        if text.contains("-----BEGIN OPENSSH PRIVATE KEY-----") {
            return try openSSH(text)
        }
        let encrypted = text.contains("Proc-Type: 4,ENCRYPTED") || text.contains("BEGIN ENCRYPTED PRIVATE KEY")
        if text.contains("BEGIN RSA PRIVATE KEY") { return PrivateKeyFile(keyType: "ssh-rsa", encrypted: encrypted) }
        if text.contains("BEGIN EC PRIVATE KEY") { return PrivateKeyFile(keyType: "ecdsa", encrypted: encrypted) }
        if text.contains("BEGIN DSA PRIVATE KEY") { return PrivateKeyFile(keyType: "ssh-dss", encrypted: encrypted) }
        if text.contains("PRIVATE KEY-----") { return PrivateKeyFile(keyType: "unknown", encrypted: encrypted) }
        throw Problem.unrecognized
    }

    /// `openssh-key-v1`: the public half and the cipher name are stored in clear.
    private static func openSSH(_ text: String) throws -> PrivateKeyFile {
        let body = text.split(separator: "\n")
            .filter { !$0.hasPrefix("-----") }
            .joined()
            .trimmingCharacters(in: .whitespacesAndNewlines)
        guard let blob = Data(base64Encoded: body) else { throw Problem.unrecognized }
        let magic = Data("openssh-key-v1\0".utf8)
        guard blob.count > magic.count, blob.prefix(magic.count) == magic else { throw Problem.unrecognized }
        var reader = SSHWireReader(blob.dropFirst(magic.count))
        guard let cipher = reader.string(), reader.string() != nil, reader.string() != nil,
              let count = reader.uint32(), count >= 1, let publicKey = reader.string(),
              let type = KnownHosts.keyType(ofBlob: publicKey) else { throw Problem.unrecognized }
        return PrivateKeyFile(keyType: type, encrypted: String(data: cipher, encoding: .utf8) != "none")
    }
}
