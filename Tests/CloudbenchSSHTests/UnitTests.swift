@testable import CloudbenchSSH
import CloudbenchTestSupport
import Foundation
import NetNS
import Testing

/// Key file inspection, quoting, threads and naming: no network.
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
            try ProcessRunner.check(["ssh-keygen", "-q"] + args + ["-f", path])
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
        #expect(try ProcessRunner.check(["sh", "-c", "printf %s \(shellQuote(nasty))"]) == nasty)
    }

    @Test("a process counts as running while it runs, and as ended once it exits even before it is reaped")
    func processRuns() throws {
        // `true &` exits at once; the shell that started it execs another that never reaps it: a zombie.
        let check = "sleep 0.3; for p in $0 $1 999999999; do if \(shellProcessRuns("$p")); then echo runs; else echo ended; fi; done; kill $0"
        let script = "sleep 5 & live=$!; true & dead=$!; exec sh -c \(shellQuote(check)) $live $dead"
        let out = try ProcessRunner.check(["sh", "-c", script])
        #expect(out.split(separator: "\n") == ["runs", "ended", "ended"], "\(out)")
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
