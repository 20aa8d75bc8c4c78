import CloudbenchCore
import CloudbenchProcess
import Foundation

/// The run's own SSH key: ed25519, generated here with `ssh-keygen`, no passphrase, the private
/// half mode 0600 in the run's folder; the cloud gets only the public half, and `destroy` deletes both.
public struct RunKey: Sendable {
    public var privateKeyPath: String
    public var publicKey: String

    public static func generate(directory: String, runID: String) throws -> RunKey {
        let path = "\(directory)/id_ed25519"
        try? FileManager.default.removeItem(atPath: path)
        try? FileManager.default.removeItem(atPath: path + ".pub")
        let ran: CommandOutput
        do {
            ran = try ProcessRunner.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "cloudbench-\(runID)", "-f", path],
                                        deadline: 30)
        } catch {
            throw ProvisionError("cannot run ssh-keygen (\(error)); install openssh-client", status: 1)
        }
        guard ran.succeeded, let pub = FileManager.default.contents(atPath: path + ".pub") else {
            let said = ran.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
            throw ProvisionError("ssh-keygen could not write \(path)" + (said.isEmpty ? "" : ": \(said)"), status: 1)
        }
        chmod(path, 0o600)
        return RunKey(privateKeyPath: path, publicKey: String(decoding: pub, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
