@testable import CloudbenchSSH
import CloudbenchTestSupport
import Foundation
import NetNS
import Testing
#if canImport(Glibc)
import Glibc
#endif

extension SSHIntegrationTests {
    @Test("ed25519 key auth runs commands with stdout, stderr and exit status kept apart")
    func keyAuthExec() throws {
        try withLab { lab in
            let h = try lab.addHost()
            try lab.trust(h)
            #expect(!lab.client.hasDefaultRoute())
            let (session, seconds) = try timed { try SSHSession(host: lab.sshHost(h), socketFactory: lab.socketFactory) }
            print("connect + handshake + host key + auth: \(String(format: "%.3f", seconds)) s")
            #expect(session.hostKeyStatus == .known)
            #expect(session.authUsed == .keyFile(lab.userKey))
            let r = try session.exec("echo out; echo err >&2; exit 3", deadline: 10)
            #expect(r == CommandOutput(status: 3, stdout: "out\n", stderr: "err\n"))
            let again = try session.exec("printf %s \"$((6*7))\"", deadline: 10)
            #expect(again.stdout == "42" && again.status == 0)
            let killed = try session.exec("kill -KILL $$", deadline: 10)
            #expect(killed.signal == "KILL" && killed.status == -1)
        }
    }

    @Test("streaming exec delivers output while the command still runs")
    func streaming() throws {
        try withLab { lab in
            let h = try lab.addHost()
            try lab.trust(h)
            let session = try SSHSession(host: lab.sshHost(h), socketFactory: lab.socketFactory)
            var chunks: [(ExecStream, String, Double)] = []
            let start = Date()
            let status = try session.stream("echo first; sleep 1; echo second >&2; exit 5", deadline: 10) { stream, data in
                chunks.append((stream, String(decoding: data, as: UTF8.self), Date().timeIntervalSince(start)))
            }
            #expect(status == 5)
            #expect(chunks.map(\.1) == ["first\n", "second\n"])
            #expect(chunks.map(\.0) == [.stdout, .stderr])
            // "first" arrived before the command's one-second sleep ended.
            #expect(chunks[0].2 < 0.9)
            // A megabyte of output crosses several channel windows intact.
            let big = try session.exec("head -c 3000000 /dev/zero | tr '\\0' x", deadline: 20)
            #expect(big.stdout.utf8.count == 3_000_000)
        }
    }

    @Test("an ECDSA key with a passphrase from a named environment variable")
    func ecdsaPassphrase() throws {
        try withLab { lab in
            let h = try lab.addHost()
            try lab.trust(h)
            let key = lab.dir + "/id_ecdsa"
            let secret = "correct horse \(getpid())"
            try ProcessRunner.check(["ssh-keygen", "-q", "-t", "ecdsa", "-b", "256", "-N", secret, "-f", key])
            try lab.authorize(publicKey: key + ".pub")
            let variable = "CLOUDBENCH_TEST_PASSPHRASE_\(getpid())"
            var host = lab.sshHost(h, identity: key)
            host.passphraseEnvironment = variable
            unsetenv(variable)
            let missing = #expect(throws: SSHError.self) { try SSHSession(host: host, socketFactory: lab.socketFactory) }
            #expect(missing == .passphraseMissing(host: host.description, path: key, variable: variable))

            setenv(variable, "wrong", 1)
            let wrong = #expect(throws: SSHError.self) { try SSHSession(host: host, socketFactory: lab.socketFactory) }
            #expect(wrong?.description.contains("wrong passphrase") == true)

            setenv(variable, secret, 1)
            defer { unsetenv(variable) }
            let session = try SSHSession(host: host, socketFactory: lab.socketFactory)
            #expect(session.authUsed == .keyFile(key))
            #expect(try session.exec("true", deadline: 5).status == 0)
            #expect(missing?.description.contains(secret) == false && wrong?.description.contains(secret) == false)
        }
    }

    @Test("ssh-agent auth through an agent socket")
    func agentAuth() throws {
        try withLab { lab in
            let h = try lab.addHost()
            try lab.trust(h)
            let socket = lab.dir + "/agent.sock"
            _ = try lab.spawnDaemon(in: lab.client, ["ssh-agent", "-D", "-a", socket], log: lab.dir + "/agent.log")
            try waitForFile(socket)
            try ProcessRunner.check(["env", "SSH_AUTH_SOCK=\(socket)", "ssh-add", "-q", lab.userKey])
            let session = try SSHSession(host: lab.sshHost(h, useAgent: socket), socketFactory: lab.socketFactory)
            #expect(session.authUsed == .agent("cloudbench-test"))
            #expect(try session.exec("echo via-agent", deadline: 5).stdout == "via-agent\n")

            // No agent at all: a sentence saying so, not a hang.
            let none = #expect(throws: SSHError.self) {
                try SSHSession(host: lab.sshHost(h, useAgent: lab.dir + "/no-such.sock"), socketFactory: lab.socketFactory)
            }
            #expect(none?.description.contains("ssh-agent") == true)
        }
    }

    @Test("an RSA key is refused by modern OpenSSH with advice to use ed25519")
    func rsaExplained() throws {
        try withLab { lab in
            let h = try lab.addHost()
            try lab.trust(h)
            let key = lab.dir + "/id_rsa"
            try ProcessRunner.check(["ssh-keygen", "-q", "-t", "rsa", "-b", "2048", "-N", "", "-f", key])
            try lab.authorize(publicKey: key + ".pub")
            let host = lab.sshHost(h, identity: key)
            let error = #expect(throws: SSHError.self) { try SSHSession(host: host, socketFactory: lab.socketFactory) }
            #expect(error == .rsaUnsupported(host: host.description, source: key))
            #expect(error?.description.contains("ed25519") == true)
            // And that really is the cause: sshd logged the SHA-1 signature it refused.
            let log = try String(contentsOfFile: lab.dir + "/host0.log", encoding: .utf8)
            #expect(log.contains("signature algorithm ssh-rsa not in PubkeyAcceptedAlgorithms"))

            // The same key offered by ssh-agent meets the same limit and the same advice.
            let socket = lab.dir + "/agent.sock"
            _ = try lab.spawnDaemon(in: lab.client, ["ssh-agent", "-D", "-a", socket], log: lab.dir + "/agent.log")
            try waitForFile(socket)
            try ProcessRunner.check(["env", "SSH_AUTH_SOCK=\(socket)", "ssh-add", "-q", key])
            let viaAgent = #expect(throws: SSHError.self) {
                try SSHSession(host: lab.sshHost(h, useAgent: socket), socketFactory: lab.socketFactory)
            }
            #expect(viaAgent == .rsaUnsupported(host: host.description, source: "from ssh-agent"))
        }
    }

    @Test("a key the server does not know fails authentication with a sentence naming host and user")
    func unknownKey() throws {
        try withLab { lab in
            let h = try lab.addHost()
            try lab.trust(h)
            let key = lab.dir + "/id_other"
            try ProcessRunner.check(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key])
            let error = #expect(throws: SSHError.self) {
                try SSHSession(host: lab.sshHost(h, identity: key), socketFactory: lab.socketFactory)
            }
            #expect(error?.description.hasPrefix("web-1 (\(h.address):22): authentication as root failed") == true)
        }
    }
}

/// Waits up to 5 s for a daemon to create its socket.
func waitForFile(_ path: String) throws {
    let deadline = Date().addingTimeInterval(5)
    while !FileManager.default.fileExists(atPath: path) {
        if Date() > deadline { throw TestFailure("\(path) did not appear within 5 s") }
        usleep(20_000)
    }
}
