import Foundation

/// The SSH host keys cloud-init prints on the serial console, between
/// `-----BEGIN SSH HOST KEY KEYS-----` and `-----END SSH HOST KEY KEYS-----`.
///
/// Console text comes from the instance, so it is untrusted: lines are bounded, a key line must be
/// `TYPE BASE64 [comment]` with a known type and valid base64 whose embedded type matches.
public enum ConsoleHostKeys {
    static let begin = "-----BEGIN SSH HOST KEY KEYS-----"
    static let end = "-----END SSH HOST KEY KEYS-----"
    public static let types: Set<String> = ["ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "ssh-rsa"]

    /// `TYPE BASE64` lines (comments dropped), in the order printed; empty when there is no block.
    /// A console printing the block twice (a reboot) gives the last block.
    public static func parse(_ console: String) -> [String] {
        var found: [String] = []
        var current: [String]?
        for raw in console.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).suffix(100_000) {
            // cloud-init's lines may carry a console timestamp prefix (`[   12.3] `) or `ci-info:`.
            let line = String(raw.prefix(16_384)).trimmingCharacters(in: .whitespaces)
            if line.hasSuffix(begin) { current = []; continue }
            if line.hasSuffix(end) {
                if let c = current, !c.isEmpty { found = c }
                current = nil
                continue
            }
            guard current != nil, let key = keyLine(line) else { continue }
            if current!.count < 16 { current!.append(key) }
        }
        return found
    }

    static func keyLine(_ line: String) -> String? {
        let parts = line.split(separator: " ", omittingEmptySubsequences: true)
        guard let t = parts.firstIndex(where: { types.contains(String($0)) }), t + 1 < parts.count else { return nil }
        let type = String(parts[t]), blob = String(parts[t + 1])
        guard blob.count <= 8192, let data = Data(base64Encoded: blob), data.count >= 4 else { return nil }
        // The blob starts with the key type as an SSH string: 4-byte length, then the name.
        let n = Int(data[0]) << 24 | Int(data[1]) << 16 | Int(data[2]) << 8 | Int(data[3])
        guard n == type.utf8.count, data.count >= 4 + n, String(decoding: data[4..<(4 + n)], as: UTF8.self) == type else { return nil }
        return "\(type) \(blob)"
    }
}
