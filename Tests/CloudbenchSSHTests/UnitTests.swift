@testable import CloudbenchSSH
import Foundation
import NetNS
import Testing

/// Key file inspection, quoting, preflight verdicts and rendering: no network.
@Suite("SSH helpers")
struct SSHHelperTests {
    @Test("private key files are recognised by type and encryption without decrypting them")
    func keyFiles() throws {
        let dir = NSTemporaryDirectory() + "keys-\(getpid())-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let cases: [([String], PrivateKeyFile)] = [
            (["-t", "ed25519", "-N", ""], PrivateKeyFile(keyType: "ssh-ed25519", encrypted: false)),
            (["-t", "ed25519", "-N", "secret-pw"], PrivateKeyFile(keyType: "ssh-ed25519", encrypted: true)),
            (["-t", "ecdsa", "-N", ""], PrivateKeyFile(keyType: "ecdsa-sha2-nistp256", encrypted: false)),
            (["-t", "rsa", "-b", "1024", "-N", ""], PrivateKeyFile(keyType: "ssh-rsa", encrypted: false)),
            (["-t", "rsa", "-b", "1024", "-m", "PEM", "-N", "secret-pw"], PrivateKeyFile(keyType: "ssh-rsa", encrypted: true)),
        ]
        for (n, (args, expected)) in cases.enumerated() {
            let path = "\(dir)/k\(n)"
            try Command.run(["ssh-keygen", "-q"] + args + ["-f", path])
            #expect(try PrivateKeyFile.inspect(path: path) == expected, "\(args)")
        }
        #expect(throws: PrivateKeyFile.Problem.self) { try PrivateKeyFile.inspect(path: dir + "/k0.pub") }
        #expect(throws: PrivateKeyFile.Problem.self) { try PrivateKeyFile.inspect(path: dir + "/missing") }
    }

    @Test("remote text loses escape sequences and control characters, keeps newlines, tabs and UTF-8", arguments: [
        ("\u{1B}[31mred\u{1B}[0m", "red"),
        ("\u{1B}]0;pwned title\u{07}after", "after"),
        ("\u{1B}]8;;http://x\u{1B}\\link\u{1B}]8;;\u{1B}\\", "link"),
        ("a\rb\u{8}c\u{7F}d\u{0}e", "abcde"),
        ("line 1\n\tline 2 é ✓", "line 1\n\tline 2 é ✓"),
        ("\u{9B}2Jcleared", "cleared"),
        ("evil\u{202E}txt.exe", "eviltxt.exe"),
        ("\u{1B}(Bplain\u{1B}", "plain"),
    ])
    func sanitised(input: String, expected: String) {
        #expect(RemoteText.sanitised(input) == expected)
        #expect(RemoteText.sanitised(expected) == expected)
    }

    @Test("captured output keeps its tail and says how much was cut")
    func tail() {
        var t = RemoteText.Tail(limit: 10)
        for chunk in ["0123456789", "abcdefghij", "KLMNO"] { t.append(Data(chunk.utf8)) }
        #expect(t.text == "[cloudbench: the first 15 bytes of this output were cut; the last 10 follow]\nfghijKLMNO")
        var small = RemoteText.Tail(limit: 10)
        small.append(Data("ok\n".utf8))
        #expect(small.text == "ok\n" && small.cut == 0)
    }

    @Test("shell quoting survives quotes, spaces and dollar signs")
    func quoting() throws {
        let nasty = "it's $HOME; `rm` \"x\""
        #expect(shellQuote("plain-name_1.txt") == "plain-name_1.txt")
        #expect(shellQuote("") == "''")
        #expect(try Command.run(["sh", "-c", "printf %s \(shellQuote(nasty))"]) == nasty)
    }

    @Test("glibc versions from getconf and ldd", arguments: [
        ("glibc 2.36", "2.36"),
        ("ldd (Debian GLIBC 2.36-9+deb12u4) 2.36", "2.36"),
        ("ldd (Ubuntu GLIBC 2.35-0ubuntu3.6) 2.35", "2.35"),
        ("musl libc (x86_64)", nil),
    ])
    func glibc(line: String, expected: String?) {
        #expect(Preflight.glibcVersion(from: line) == expected)
    }

    @Test("agent verdicts", arguments: [
        ("x86_64", "2.36", "yes"),
        ("aarch64", "2.34", "yes"),
        ("x86_64", "2.31", "no: glibc 2.31 < 2.34"),
        ("armv7l", "2.36", "no: armv7l is not x86_64/aarch64"),
        ("x86_64", "none", "no: needs glibc (found none)"),
    ])
    func verdict(arch: String, glibc: String, expected: String) {
        #expect(Preflight.agentVerdict(arch: arch, glibc: glibc) == expected)
    }

    @Test("the preflight table aligns columns and lists errors beneath")
    func table() {
        let rows = [
            PreflightRow(host: "web-1", role: "server", pair: "a2", user: "ubuntu", auth: "agent", hostKey: .known,
                         arch: "x86_64", kernel: "6.1.0", glibc: "2.36", sudo: "ok", agent: "yes", ready: true, error: nil),
            PreflightRow(host: "db", role: "client", pair: "a2", user: "root", auth: "-", hostKey: .changed,
                         arch: "-", kernel: "-", glibc: "-", sudo: "n/a", agent: "-", ready: false,
                         error: "db (10.0.0.5:22): host key changed"),
        ]
        #expect(PreflightTable.render(rows) == """
        HOST   ROLE    PAIR  USER    AUTH   HOST KEY  ARCH    KERNEL  GLIBC  SUDO  AGENT  READY
        web-1  server  a2    ubuntu  agent  known     x86_64  6.1.0   2.36   ok    yes    yes
        db     client  a2    root    -      changed   -       -       -      n/a   -      NO

        db (10.0.0.5:22): host key changed

        1 of 2 hosts ready

        """)
    }

    @Test("blocking work runs on its own thread and hands back its result or error")
    func sshThread() async throws {
        let answer = try await onSSHThread { () throws -> Int in usleep(10_000); return 42 }
        #expect(answer == 42)
        await #expect(throws: SSHError.sudoMissing(host: "x")) {
            try await onSSHThread { () throws -> Int in throw SSHError.sudoMissing(host: "x") }
        }
    }

    @Test("hosts are named by label and address in every message")
    func naming() {
        let h = SSHHost(label: "web-1", address: "10.0.0.4", user: "ubuntu", identity: "~/.ssh/id_ed25519")
        #expect(h.description == "web-1 (10.0.0.4:22)")
        #expect(SSHHost(label: "::1", address: "::1", port: 2222, user: "u").description == "[::1]:2222")
        #expect(h.identity?.hasPrefix("~") == false)
        let e = SSHError.hostKeyChanged(host: h.description, keyType: "ssh-ed25519", fingerprint: "SHA256:abc",
                                        knownHosts: "/k", line: 3, removeName: "10.0.0.4")
        #expect(e.description.hasPrefix("web-1 (10.0.0.4:22): host key changed"))
        #expect(e.description.contains("ssh-keygen -R 10.0.0.4 -f /k"))
    }
}
