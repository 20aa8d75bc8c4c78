@testable import CloudbenchSSH
import CloudbenchTestSupport
import Foundation
import NetNS
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// sudo is not installed on the test machine and the lab logs in as root, so this test puts a
/// fake `sudo` first in the remote PATH (`SSHLab.fakeSudo`). Preflight's own test is compare's
/// (CloudbenchOrchestratorTests/PreflightTests.swift).
extension SSHIntegrationTests {
    @Test("sudo: true wraps commands in sudo -n; a sudo that wants a password is named as such")
    func sudoPassword() throws {
        try withLab { lab in
            let h = try lab.addHost(environmentPath: try lab.fakeSudo(asksPassword: true))
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
}
