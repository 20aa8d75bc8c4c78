import CloudbenchCore
import CloudbenchSSH
import Foundation
import Logging

/// A connector whose shells log every remote command: host, duration, exit status, and the
/// command with its secrets redacted. What `--verbose` shows, to debug a run on a real cloud.
public struct LoggedConnector: HostConnector {
    public var base: HostConnector
    public var logger: Logger

    public init(_ base: HostConnector, logger: Logger) {
        self.base = base
        self.logger = logger
    }

    public func connect(_ host: Instance, label: String) async throws -> RemoteShell {
        let started = ContinuousClock.now
        do {
            let shell = try await base.connect(host, label: label)
            logger.debug("connected", metadata: ["host": "\(label)", "ms": "\(Self.milliseconds(since: started))"])
            return LoggedShell(shell, logger: logger)
        } catch {
            logger.debug("connect failed", metadata: ["host": "\(label)", "ms": "\(Self.milliseconds(since: started))",
                                                      "error": "\(Redaction.redact("\(error)"))"])
            throw error
        }
    }

    static func milliseconds(since start: ContinuousClock.Instant) -> Int {
        let d = ContinuousClock.now - start
        return Int(d.components.seconds * 1000 + d.components.attoseconds / 1_000_000_000_000_000)
    }
}

/// A shell that logs each command once, after it ends, at debug level.
final class LoggedShell: RemoteShell, @unchecked Sendable {
    let base: RemoteShell
    let logger: Logger

    init(_ base: RemoteShell, logger: Logger) {
        self.base = base
        self.logger = logger
    }

    var label: String { base.label }
    var connection: ConnectionInfo? { base.connection }

    /// `input` is never logged: it carries secrets.
    func run(_ command: String, input: String?, timeout: Double) async throws -> CommandOutput {
        let started = ContinuousClock.now
        do {
            let out = try await base.run(command, input: input, timeout: timeout)
            log(command, started, outcome: "exit \(out.status)")
            return out
        } catch {
            log(command, started, outcome: "\(error)")
            throw error
        }
    }

    func upload(localPath: String, remotePath: String, mode: Int32) async throws -> Bool {
        try await upload(localPath: localPath, remotePath: remotePath, mode: mode, gzipped: nil)
    }

    func uploadMethod() async throws -> UploadMethod? { try await base.uploadMethod() }

    func upload(localPath: String, remotePath: String, mode: Int32, gzipped: String?) async throws -> Bool {
        let started = ContinuousClock.now
        let what = "upload \(gzipped ?? localPath) -> \(remotePath)"
        do {
            let copied = try await base.upload(localPath: localPath, remotePath: remotePath, mode: mode, gzipped: gzipped)
            log(what, started, outcome: copied ? "copied" : "already there")
            return copied
        } catch {
            log(what, started, outcome: "\(error)")
            throw error
        }
    }

    private func log(_ command: String, _ started: ContinuousClock.Instant, outcome: String) {
        logger.debug("\(Redaction.redact(command))", metadata: [
            "host": "\(label)", "ms": "\(LoggedConnector.milliseconds(since: started))",
            "result": "\(Redaction.redact(outcome))",
        ])
    }
}

/// Hides secrets in what is logged: the agent's token (`CLOUDBENCH_AGENT_TOKEN=…`, `--token …`)
/// and anything that looks like a private key.
public enum Redaction {
    public static let mask = "<redacted>"

    public static func redact(_ text: String) -> String {
        var out = text
        for pattern in [#"(CLOUDBENCH_AGENT_TOKEN=)[^\s;&|'"]+"#, #"(--token[= ])[^\s;&|'"]+"#,
                        #"(-----BEGIN [A-Z ]*PRIVATE KEY-----)[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)"#] {
            guard let re = try? NSRegularExpression(pattern: pattern) else { continue }
            out = re.stringByReplacingMatches(in: out, range: NSRange(out.startIndex..., in: out), withTemplate: "$1\(mask)")
        }
        return out
    }
}
