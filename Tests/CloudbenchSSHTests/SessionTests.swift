import CloudbenchSSH
import Foundation
import NetNS
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Connecting, authenticating and running commands against a real sshd in a namespace.
@Suite("SSH session against OpenSSH", .enabled(if: getuid() == 0), .serialized)
struct SessionTests {
    @Test("ed25519 key auth runs a command with stdout, stderr and exit status kept apart")
    func keyAuthExec() throws {
        try withLab { lab in
            let h = try lab.addHost()
            try lab.trust(h)
            #expect(!lab.client.hasDefaultRoute())
            let session = try SSHSession(host: lab.sshHost(h), socketFactory: lab.socketFactory)
            #expect(session.hostKeyStatus == .known)
            #expect(session.authUsed == .keyFile(lab.userKey))
            let r = try session.exec("echo out; echo err >&2; exit 3", deadline: 10)
            #expect(r == ExecResult(stdout: "out\n", stderr: "err\n", exitStatus: 3))
            // The session stays usable for the next command.
            let again = try session.exec("printf %s \"$((6*7))\"", deadline: 10)
            #expect(again.stdout == "42" && again.exitStatus == 0)
        }
    }
}
