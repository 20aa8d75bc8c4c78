import CloudbenchSSH
import Foundation

/// Why talking to a host failed. `unreachable` means the host itself is gone (connection lost,
/// handshake failed), so its remaining cells fail at once instead of each waiting out a timeout.
public enum RemoteError: Error, CustomStringConvertible, Sendable {
    case unreachable(host: String, reason: String)
    case timedOut(host: String, command: String, seconds: Double)
    case failed(host: String, what: String, output: CommandOutput)

    public var description: String {
        switch self {
        case .unreachable(let h, let r): return "\(h): unreachable: \(r)"
        case .timedOut(let h, let c, let s): return "\(h): '\(c)' did not finish within \(Int(s)) s"
        case .failed(let h, let what, let o):
            let said = RemoteText.sanitised(o.stderr.isEmpty ? o.stdout : o.stderr).trimmingCharacters(in: .whitespacesAndNewlines)
            let last = said.split(separator: "\n").suffix(3).joined(separator: " / ")
            return "\(h): \(what) failed (exit \(o.status))" + (last.isEmpty ? "" : ": \(last)")
        }
    }
}
