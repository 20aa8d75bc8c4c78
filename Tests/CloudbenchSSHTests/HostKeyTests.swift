@testable import CloudbenchSSH
import CloudbenchTestSupport
import Foundation
import NetNS
import Testing

extension SSHIntegrationTests {
    @Test("an unknown host is refused by default, and recorded like accept-new with the flag")
    func unknownHost() throws {
        try withLab { lab in
            let h = try lab.addHost()
            let host = lab.sshHost(h)
            let fingerprint = try lab.fingerprint(h)
            let refused = #expect(throws: SSHError.self) { try SSHSession(host: host, socketFactory: lab.socketFactory) }
            #expect(refused == .unknownHostKey(host: host.description, keyType: "ssh-ed25519", fingerprint: fingerprint,
                                               knownHosts: lab.knownHosts))
            #expect(refused?.description.contains("--accept-new-host-keys") == true)
            #expect(!FileManager.default.fileExists(atPath: lab.knownHosts))

            let accepted = try SSHSession(host: host, policy: .acceptNew, socketFactory: lab.socketFactory)
            #expect(accepted.hostKeyStatus == .newRecorded)
            #expect(accepted.hostKeyFingerprint == fingerprint)
            // OpenSSH itself finds the recorded entry.
            let found = try ProcessRunner.check(["ssh-keygen", "-F", h.address, "-f", lab.knownHosts])
            #expect(found.contains("ssh-ed25519"))

            let again = try SSHSession(host: host, socketFactory: lab.socketFactory)
            #expect(again.hostKeyStatus == .known)
        }
    }

    @Test("a changed host key is refused even with accept-new, printing OpenSSH's SHA256 fingerprint")
    func changedHostKey() throws {
        try withLab { lab in
            let h = try lab.addHost()
            let impostor = lab.dir + "/old_host_key"
            try ProcessRunner.check(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", impostor])
            let old = try String(contentsOfFile: impostor + ".pub", encoding: .utf8).split(separator: " ")
            try "# comment\n\(h.address) \(old[0]) \(old[1])\n".write(toFile: lab.knownHosts, atomically: true, encoding: .utf8)
            let before = try String(contentsOfFile: lab.knownHosts, encoding: .utf8)
            let host = lab.sshHost(h)
            let fingerprint = try lab.fingerprint(h)
            for policy in [HostKeyPolicy.strict, .acceptNew] {
                let error = #expect(throws: SSHError.self) {
                    try SSHSession(host: host, policy: policy, socketFactory: lab.socketFactory)
                }
                #expect(error == .hostKeyChanged(host: host.description, keyType: "ssh-ed25519", fingerprint: fingerprint,
                                                 knownHosts: lab.knownHosts, line: 2, removeName: h.address))
                let text = error?.description ?? ""
                #expect(text.contains(fingerprint) && text.contains("ssh-keygen -R \(h.address)"))
            }
            #expect(try String(contentsOfFile: lab.knownHosts, encoding: .utf8) == before)
        }
    }

    @Test("a host known only by its ECDSA key is asked for that key type first, as OpenSSH does")
    func matchedByKeyType() throws {
        try withLab { lab in
            let h = try lab.addHost()
            try lab.trust(h, ecdsa: true)
            let session = try SSHSession(host: lab.sshHost(h), socketFactory: lab.socketFactory)
            #expect(session.hostKeyStatus == .known)
            let fp = try ProcessRunner.check(["sh", "-c", "printf %s \(shellQuote(h.ecdsaKeyPublic)) | ssh-keygen -l -f -"])
            #expect(fp.split(separator: " ")[1] == session.hostKeyFingerprint)
            // The file still has only the ECDSA entry: nothing was added or changed.
            #expect(try String(contentsOfFile: lab.knownHosts, encoding: .utf8).split(separator: "\n").count == 1)
        }
    }

    @Test("hashed entries and [host]:port entries match; unsupported lines do not hide later ones")
    func hashedAndPorts() throws {
        try withLab { lab in
            let h = try lab.addHost()
            try lab.trust(h, as: "[\(h.address)]:2222")
            try lab.trust(h)
            try ProcessRunner.check(["ssh-keygen", "-H", "-f", lab.knownHosts])
            let hashed = try String(contentsOfFile: lab.knownHosts, encoding: .utf8)
            #expect(!hashed.contains(h.address) && hashed.contains("|1|"))
            // Lines libssh2's own reader would stop at, placed before the real entries.
            let noise = """
            this line is not a known_hosts entry
            @cert-authority *.example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE6g8RZs1Y1Zb0vQ4b0cQh1dE3sQ1QdUo5bF4y0h3Yy7
            \(h.address) sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29tAAAAIA==
            \(h.address) ssh-ed25519 !!!notbase64!!!

            """
            try (noise + hashed).write(toFile: lab.knownHosts, atomically: true, encoding: .utf8)

            let on22 = try SSHSession(host: lab.sshHost(h), socketFactory: lab.socketFactory)
            #expect(on22.hostKeyStatus == .known)
            let on2222 = try SSHSession(host: lab.sshHost(h, port: 2222), socketFactory: lab.socketFactory)
            #expect(on2222.hostKeyStatus == .known)
            #expect(try on2222.exec("echo ok", deadline: 5).stdout == "ok\n")

            // A plain entry for port 22 says nothing about port 2222.
            try lab.trust(h)
            let onlyPlain = lab.dir + "/plain_known_hosts"
            try "\(h.address) \(h.hostKeyPublic)".write(toFile: onlyPlain, atomically: true, encoding: .utf8)
            var other = lab.sshHost(h, port: 2222)
            other.knownHosts = onlyPlain
            let refused = #expect(throws: SSHError.self) { try SSHSession(host: other, socketFactory: lab.socketFactory) }
            if case .unknownHostKey = refused {} else { Issue.record("expected unknownHostKey, got \(String(describing: refused))") }
        }
    }
}
