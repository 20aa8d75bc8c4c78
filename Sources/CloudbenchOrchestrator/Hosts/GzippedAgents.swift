import CloudbenchSSH
import Foundation

/// A gzip of each agent binary, what travels to hosts that have `gzip` (every stock image has
/// it; xz, which shrinks the agent only a fifth more for seven times the CPU, is often missing).
/// Made once per binary with this machine's `gzip` and kept under `~/.cache/cloudbench/agents`,
/// named by the binary's SHA-256; a kept one is checked against that SHA-256 before it is used.
/// nil (send the binary as it is) when this machine cannot make one. The host checks the
/// decompressed agent against the same SHA-256, so a bad gzip cannot reach a run.
actor GzippedAgents {
    /// One task per binary: callers that come while it runs (the actor is re-entered at the
    /// await) wait for the same gzip instead of starting their own.
    private var made: [String: Task<String?, Never>] = [:]
    private let directory: String

    init(directory: String = GzippedAgents.defaultDirectory) { self.directory = directory }

    static var defaultDirectory: String {
        let env = ProcessInfo.processInfo.environment
        let base = env["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? ((env["HOME"] ?? NSHomeDirectory()) + "/.cache")
        return base + "/cloudbench/agents"
    }

    /// The gzip of `binary` (whose SHA-256 is `sha256`), made on first use.
    func gzipped(_ binary: String, sha256: String) async -> String? {
        if let task = made[sha256] { return await task.value }
        let directory = self.directory
        // gzip takes a few seconds: on the SSH pool's threads, not the cooperative pool.
        let task = Task { await onSSHThread { GzippedAgents.make(binary, sha256: sha256, in: directory) } }
        made[sha256] = task
        return await task.value
    }

    /// Checks a kept gzip, or makes a new one beside it and renames it into place.
    static func make(_ binary: String, sha256: String, in directory: String) -> String? {
        let path = "\(directory)/cloudbench-agent-\(sha256.prefix(16)).gz"
        if FileManager.default.fileExists(atPath: path), decompressedSHA256(path) == sha256 { return path }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch { return nil }
        let temporary = path + ".\(getpid()).tmp"
        defer { try? FileManager.default.removeItem(atPath: temporary) }
        guard let out = try? ProcessRunner.run(["sh", "-c", "gzip -6 -c -- \"$1\" > \"$2\"", "sh", binary, temporary], deadline: 300),
              out.succeeded, decompressedSHA256(temporary) == sha256 else { return nil }
        guard rename(temporary, path) == 0 else { return nil }
        return path
    }

    /// The SHA-256 of what `gzip -dc` makes of `path`.
    static func decompressedSHA256(_ path: String) -> String? {
        guard let out = try? ProcessRunner.run(["sh", "-c", "gzip -dc -- \"$1\" | sha256sum", "sh", path], deadline: 60),
              out.succeeded else { return nil }
        let hex = String(out.stdout.prefix(64))
        return hex.count == 64 ? hex : nil
    }
}
