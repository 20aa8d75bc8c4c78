import COpenSSL
import Foundation

/// SHA-256 and HMAC-SHA1 from libcrypto, the only digests SSH bookkeeping needs.
public enum Digest {
    static func sha256(_ data: Data) -> Data {
        var out = [UInt8](repeating: 0, count: 32)
        var len: UInt32 = 0
        data.withUnsafeBytes { buf in
            _ = EVP_Digest(buf.baseAddress, buf.count, &out, &len, EVP_sha256(), nil)
        }
        return Data(out)
    }

    /// SHA-256 of a file as lowercase hex, read in 1 MiB pieces so large files need no memory.
    /// Computed once per version of the file (its device, inode, size and modification time):
    /// a run uploads one agent to hundreds of hosts, and each upload checks its hash.
    public static func sha256Hex(ofFile path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw CocoaError(.fileReadNoSuchFile)
        }
        defer { try? handle.close() }
        var info = stat()
        let version = fstat(handle.fileDescriptor, &info) == 0 ? FileVersion(info) : nil
        if let version, let known = FileDigestCache.shared.digest(path: path, version: version) { return known }
        guard let ctx = EVP_MD_CTX_new() else { throw CocoaError(.fileReadUnknown) }
        defer { EVP_MD_CTX_free(ctx) }
        EVP_DigestInit_ex(ctx, EVP_sha256(), nil)
        while true {
            let chunk = try handle.read(upToCount: 1 << 20) ?? Data()
            if chunk.isEmpty { break }
            chunk.withUnsafeBytes { _ = EVP_DigestUpdate(ctx, $0.baseAddress, $0.count) }
        }
        var out = [UInt8](repeating: 0, count: 32)
        var len: UInt32 = 0
        EVP_DigestFinal_ex(ctx, &out, &len)
        let digest = hex(Data(out))
        if let version { FileDigestCache.shared.remember(digest, path: path, version: version) }
        return digest
    }

    static func hmacSHA1(key: Data, message: Data) -> Data {
        var out = [UInt8](repeating: 0, count: 20)
        var len: UInt32 = 0
        key.withUnsafeBytes { k in
            message.withUnsafeBytes { m in
                _ = HMAC(EVP_sha1(), k.baseAddress, Int32(k.count),
                         m.baseAddress?.assumingMemoryBound(to: UInt8.self), m.count, &out, &len)
            }
        }
        return Data(out)
    }

    static func hex(_ data: Data) -> String {
        data.map { String(format: "%02x", $0) }.joined()
    }

    /// OpenSSH's fingerprint format: `SHA256:` and unpadded base64 of the key blob's digest.
    static func fingerprint(_ keyBlob: Data) -> String {
        "SHA256:" + sha256(keyBlob).base64EncodedString().replacingOccurrences(of: "=", with: "")
    }
}

/// What tells one version of a file from another without reading it.
struct FileVersion: Equatable {
    var device: UInt64, inode: UInt64, size: Int64, modified: Int64, modifiedNanos: Int64
    init(_ s: stat) {
        device = UInt64(s.st_dev); inode = UInt64(s.st_ino); size = Int64(s.st_size)
        modified = Int64(s.st_mtim.tv_sec); modifiedNanos = Int64(s.st_mtim.tv_nsec)
    }
}

/// The digests `Digest.sha256Hex(ofFile:)` computed, by path, with the file version each is of.
/// Bounded: past `limit` paths it starts afresh (a run hashes a handful of files).
final class FileDigestCache: @unchecked Sendable {
    static let shared = FileDigestCache()
    static let limit = 64
    private let lock = NSLock()
    private var known: [String: (FileVersion, String)] = [:]

    func digest(path: String, version: FileVersion) -> String? {
        lock.withLock {
            guard let (v, d) = known[path], v == version else { return nil }
            return d
        }
    }

    func remember(_ digest: String, path: String, version: FileVersion) {
        lock.withLock {
            if known.count >= FileDigestCache.limit { known.removeAll() }
            known[path] = (version, digest)
        }
    }
}
