@testable import CloudbenchSSH
import Foundation
import NetNS
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// sudo is not installed on the test machine and the lab logs in as root, so these tests put a
/// fake `sudo` first in the remote PATH (sshd `SetEnv PATH=…`): one that asks for a password
/// exactly as sudo 1.9 does with `-n`, one that runs the command as passwordless sudo would.
extension SSHIntegrationTests {
    static func fakeSudo(in dir: String, asksPassword: Bool) throws -> String {
        let bin = dir + (asksPassword ? "/sudo-password" : "/sudo-ok")
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        let script = asksPassword
            ? "#!/bin/sh\necho 'sudo: a password is required' >&2\nexit 1\n"
            : "#!/bin/sh\n[ \"$1\" = -n ] && shift\n[ \"$1\" = -- ] && shift\nexec \"$@\"\n"
        try script.write(toFile: bin + "/sudo", atomically: true, encoding: .utf8)
        chmod(bin + "/sudo", 0o755)
        return bin + ":/usr/sbin:/usr/bin:/sbin:/bin"
    }

    @Test("sudo: true wraps commands in sudo -n; a sudo that wants a password is named as such")
    func sudoPassword() throws {
        try withLab { lab in
            let h = try lab.addHost(environmentPath: try Self.fakeSudo(in: lab.dir, asksPassword: true))
            try lab.trust(h)
            var host = lab.sshHost(h)
            host.sudo = true
            host.user = "root"
            let session = try SSHSession(host: host, socketFactory: lab.socketFactory)
            #expect(session.remoteCommand("echo 'a b'", asRoot: true) == "sudo -n -- sh -c 'echo '\\''a b'\\'''")
            let error = #expect(throws: SSHError.self) { try session.exec("id -u", deadline: 5, asRoot: true) }
            #expect(error == .sudoNeedsPassword(host: host.description, user: "root"))
            #expect(error?.description.contains("NOPASSWD") == true)
            // Commands that do not need root are not wrapped.
            #expect(try session.exec("echo plain", deadline: 5).stdout == "plain\n")
        }
    }

    @Test("preflight checks hosts in parallel and reports each one's state in a table")
    func preflightTable() async throws {
        let lab = try SSHLab()
        defer { lab.tearDown() }
        let good = try lab.addHost(environmentPath: try Self.fakeSudo(in: lab.dir, asksPassword: false))
        let needsPassword = try lab.addHost(environmentPath: try Self.fakeSudo(in: lab.dir, asksPassword: true))
        let stranger = try lab.addHost()
        try lab.trust(good)
        try lab.trust(needsPassword)
        let silent = try Namespace.create(prefix: "cbssh")
        defer { silent.delete() }
        let (_, far) = try Link.veth(lab.client, silent, subnet: "10.231.\(SSHLab.nextSubnet())")
        let listener = try silent.onThreadInside { try listenForever(on: far.address, port: 22) }
        defer { close(listener) }

        func target(_ h: SSHLab.Host, _ label: String, _ role: String) -> PreflightTarget {
            var host = lab.sshHost(h, label: label, timeout: 3)
            host.sudo = true
            return PreflightTarget(host: host, role: role, pair: "lab-a")
        }
        let hole = SSHHost(label: "hole", address: far.address, user: "root", identity: lab.userKey,
                           knownHosts: lab.knownHosts, connectTimeout: 3)
        let targets = [target(good, "good", "server"), target(needsPassword, "pw", "client"),
                       target(stranger, "stranger", "server"), PreflightTarget(host: hole, role: "client", pair: "lab-b")]
        let start = Date()
        let rows = await preflight(targets, policy: .strict, socketFactory: lab.socketFactory)
        let seconds = Date().timeIntervalSince(start)
        // In parallel: the 3 s black hole does not add to the others.
        #expect(seconds < 5, "took \(seconds) s")
        #expect(rows.map(\.host) == ["good", "pw", "stranger", "hole"])

        let localArch = try ProcessRunner.check(["uname", "-m"]).trimmingCharacters(in: .whitespacesAndNewlines)
        let localGlibc = try ProcessRunner.check(["getconf", "GNU_LIBC_VERSION"]).split(separator: " ").last.map(String.init)?
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let ok = rows[0]
        #expect(ok.ready && ok.error == nil)
        #expect(ok.arch == localArch && ok.glibc == localGlibc && ok.sudo == "ok" && ok.agent == "yes")
        #expect(ok.auth == "key id_ed25519" && ok.hostKey == .known && ok.user == "root" && ok.role == "server")
        #expect(!ok.kernel.isEmpty && ok.kernel != "-")

        #expect(!rows[1].ready && rows[1].sudo == "needs password")
        #expect(!rows[2].ready && rows[2].hostKey == .unknownRefused && rows[2].error?.contains("--accept-new-host-keys") == true)
        #expect(!rows[3].ready && rows[3].error == SSHError.handshakeTimedOut(host: hole.description, seconds: 3).description)

        let table = PreflightTable.render(rows)
        print(table)
        #expect(table.hasPrefix("HOST "))
        #expect(table.contains("\n1 of 4 hosts ready\n"))
        #expect(table.contains("unknown-refused"))

        // With accept-new, the stranger's key is recorded and it becomes ready... except for sudo,
        // which that host does not have (no fake sudo there and none installed).
        let again = await preflight([targets[2]], policy: .acceptNew, socketFactory: lab.socketFactory)
        #expect(again[0].hostKey == .newRecorded)
        #expect(again[0].sudo == "missing" || again[0].sudo == "ok")
    }
}
