import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Where a host's key stands against known_hosts, as preflight reports it.
public enum HostKeyStatus: String, Sendable, Hashable {
    case known
    case newRecorded = "new-recorded"
    case unknownRefused = "unknown-refused"
    case changed
    case revoked
    /// The connection failed before a key was seen.
    case notChecked = "-"
}

/// An OpenSSH known_hosts file: plain, hashed (`|1|salt|hash`) and `[host]:port` entries.
///
/// Read line by line, so that a line this code does not understand (a certificate authority,
/// a key type libssh2 lacks, a typo) is skipped rather than hiding every line after it, which
/// is what `libssh2_knownhost_readfile` does.
struct KnownHosts {
    /// One usable line.
    struct Entry {
        var line: Int
        var revoked: Bool
        var patterns: String
        var keyType: String
        var key: Data
    }

    enum Match: Equatable {
        case matches(line: Int)
        case mismatch(line: Int)
        case revoked(line: Int)
        case notFound
    }

    let path: String
    let entries: [Entry]

    /// Reads the file; a missing file is an empty one.
    init(path: String) {
        self.path = path
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        var entries: [Entry] = []
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if let entry = KnownHosts.parse(line: raw, number: index + 1) { entries.append(entry) }
        }
        self.entries = entries
    }

    static func parse(line raw: Substring, number: Int) -> Entry? {
        let line = raw.trimmingCharacters(in: .whitespaces)
        if line.isEmpty || line.hasPrefix("#") { return nil }
        var fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        var revoked = false
        if let first = fields.first, first.hasPrefix("@") {
            // Certificate authorities need certificate support that libssh2 1.10 lacks.
            guard first == "@revoked" else { return nil }
            revoked = true
            fields.removeFirst()
        }
        guard fields.count >= 3, let key = Data(base64Encoded: fields[2]) else { return nil }
        // The type inside the blob is the truth; the text field can lie or be a typo.
        guard let blobType = keyType(ofBlob: key), blobType == fields[1] else { return nil }
        return Entry(line: number, revoked: revoked, patterns: fields[0], keyType: fields[1], key: key)
    }

    /// The name known_hosts uses for a host: `host` on port 22, `[host]:port` otherwise.
    static func hostName(_ host: String, port: UInt16) -> String {
        port == 22 ? host : "[\(host)]:\(port)"
    }

    /// Compares `key` with every entry for `host:port` of the same key type.
    func match(host: String, port: UInt16, keyType: String, key: Data) -> Match {
        let name = KnownHosts.hostName(host, port: port)
        let forHost = entries.filter { KnownHosts.patterns($0.patterns, match: name) }
        // A revoked key is refused even when another line also lists it as good.
        if let revoked = forHost.first(where: { $0.revoked && $0.key == key }) {
            return .revoked(line: revoked.line)
        }
        let sameType = forHost.filter { !$0.revoked && $0.keyType == keyType }
        if let good = sameType.first(where: { $0.key == key }) { return .matches(line: good.line) }
        if let other = sameType.first { return .mismatch(line: other.line) }
        return .notFound
    }

    /// Key types already recorded for the host, so the handshake can ask for one of them first
    /// (as OpenSSH does) instead of meeting a type it has no entry for.
    func knownTypes(host: String, port: UInt16) -> [String] {
        let name = KnownHosts.hostName(host, port: port)
        var types: [String] = []
        for e in entries where !e.revoked && KnownHosts.patterns(e.patterns, match: name) && !types.contains(e.keyType) {
            types.append(e.keyType)
        }
        return types
    }

    /// Appends one plain entry, creating the file (0600) and its folder (0700) when missing.
    /// An advisory lock keeps parallel preflight threads and other cloudbench runs from interleaving lines.
    static func append(path: String, host: String, port: UInt16, keyType: String, key: Data) throws {
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty && !FileManager.default.fileExists(atPath: dir) {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        }
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        defer { close(fd) }
        flock(fd, LOCK_EX)
        defer { flock(fd, LOCK_UN) }
        var text = "\(hostName(host, port: port)) \(keyType) \(key.base64EncodedString())\n"
        // A file whose last line lacks its newline would glue our entry onto it.
        var st = stat()
        if fstat(fd, &st) == 0, st.st_size > 0, let last = lastByte(path: path), last != UInt8(ascii: "\n") {
            text = "\n" + text
        }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        fsync(fd)
    }

    private static func lastByte(path: String) -> UInt8? {
        guard let h = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? h.close() }
        guard let end = try? h.seekToEnd(), end > 0 else { return nil }
        try? h.seek(toOffset: end - 1)
        return (try? h.read(upToCount: 1))?.first
    }

    /// OpenSSH host-pattern matching: comma-separated patterns with `*`, `?` and `!` negation,
    /// or one hashed `|1|salt|hash` name.
    static func patterns(_ field: String, match name: String) -> Bool {
        if field.hasPrefix("|1|") {
            let parts = field.split(separator: "|", omittingEmptySubsequences: true)
            guard parts.count == 3, parts[0] == "1",
                  let salt = Data(base64Encoded: String(parts[1])),
                  let hash = Data(base64Encoded: String(parts[2])) else { return false }
            return Digest.hmacSHA1(key: salt, message: Data(name.utf8)) == hash
        }
        var positive = false
        for pattern in field.split(separator: ",") {
            if pattern.hasPrefix("!") {
                if wildcard(String(pattern.dropFirst()), matches: name) { return false }
            } else if wildcard(String(pattern), matches: name) {
                positive = true
            }
        }
        return positive
    }

    /// Glob match with `*` and `?`, case-insensitive like OpenSSH's host matching.
    static func wildcard(_ pattern: String, matches name: String) -> Bool {
        let p = Array(pattern.lowercased().utf8), s = Array(name.lowercased().utf8)
        var pi = 0, si = 0, starP = -1, starS = 0
        while si < s.count {
            if pi < p.count && (p[pi] == UInt8(ascii: "?") || p[pi] == s[si]) {
                pi += 1; si += 1
            } else if pi < p.count && p[pi] == UInt8(ascii: "*") {
                starP = pi; starS = si; pi += 1
            } else if starP >= 0 {
                pi = starP + 1; starS += 1; si = starS
            } else {
                return false
            }
        }
        while pi < p.count && p[pi] == UInt8(ascii: "*") { pi += 1 }
        return pi == p.count
    }

    /// The key type named at the start of an SSH public key blob (`ssh-ed25519`, …).
    static func keyType(ofBlob blob: Data) -> String? {
        var reader = SSHWireReader(blob)
        return reader.string().flatMap { String(data: $0, encoding: .utf8) }
    }
}

/// Reads SSH wire-format fields (big-endian uint32 lengths) from a blob.
struct SSHWireReader {
    private let bytes: [UInt8]
    private var offset = 0
    init(_ data: Data) { bytes = Array(data) }

    mutating func uint32() -> UInt32? {
        guard offset + 4 <= bytes.count else { return nil }
        let v = bytes[offset..<offset + 4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        offset += 4
        return v
    }

    mutating func string() -> Data? {
        guard let n = uint32(), offset + Int(n) <= bytes.count else { return nil }
        defer { offset += Int(n) }
        return Data(bytes[offset..<offset + Int(n)])
    }

    mutating func bytes(_ n: Int) -> Data? {
        guard offset + n <= bytes.count else { return nil }
        defer { offset += n }
        return Data(bytes[offset..<offset + n])
    }
}
