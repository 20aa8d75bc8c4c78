import CloudbenchCore
import CloudbenchSSH
import Foundation

/// The agent binaries this machine can deploy, by architecture (`uname -m`).
public struct AgentBinaries: Sendable {
    public var byArch: [String: String]
    public init(byArch: [String: String]) { self.byArch = byArch }
}

/// The second stage of `compare`: the agent uploaded to a checked host (named by its SHA-256, so
/// a host that has it already keeps it), run once to see it starts, and what an earlier run left
/// removed.
public struct AgentDeploy: Sendable {
    public var binaries: AgentBinaries
    /// Each binary gzipped once, for the hosts that have `gzip`.
    private let gzipped = GzippedAgents()

    public init(binaries: AgentBinaries) { self.binaries = binaries }

    /// Uploads the agent (when the host lacks it) and runs the host's cleanup, unless a run other
    /// than `runID` holds the host (`HostLock`): then its agents stay. `cleaning` false skips the
    /// cleanup (a host reconnected mid-run was cleaned already).
    public func deploy(shell: RemoteShell, facts: HostFacts, sudoAllowed: Bool, runID: String? = nil,
                       cleaning: Bool = true) async throws -> RemoteHost {
        guard let binary = binaries.byArch[facts.arch] else {
            throw CellFailure("no agent binary for \(facts.arch); name one under 'agent: { \(facts.arch): PATH }' in the inventory")
        }
        let sha: String
        do { sha = try Digest.sha256Hex(ofFile: binary) } catch { throw FileError(binary, "cannot read the agent binary") }
        let host = RemoteHost(shell: shell, facts: facts, sudoAllowed: sudoAllowed, agentSHA: sha)
        let remote = host.layout.agentPath(sha256: sha)
        // The upload creates the agent's folder when it is missing. The agent travels gzipped
        // (a third of its size) when the host has gzip, and is checked after decompression.
        let compressed = facts.tools.contains("gzip") ? await gzipped.gzipped(binary, sha256: sha) : nil
        _ = try await shell.upload(localPath: binary, remotePath: remote, mode: 0o755, gzipped: compressed)
        let version = try await host.check("\(remote) --version", what: "run the agent")
        if version.stdout.isEmpty { throw CellFailure("the agent printed no version") }
        if cleaning {
            _ = try? await host.run(HostLock(layout: host.layout).unlessHeld(host.layout.cleanupScript, runID: runID), timeout: 30,
                                    privileged: host.hasRoot)
        }
        return host
    }
}
