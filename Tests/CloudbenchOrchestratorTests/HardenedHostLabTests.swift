import CloudbenchProcess
import Foundation
import Testing

/// `compare` on lab hosts made unlike the lab's defaults the way minimal images are (issue 16).
@Suite("hardened hosts on the lab", .enabled(if: getuid() == 0, "needs root for the lab"), .serialized)
struct HardenedHostLabTests {
    /// Runs `script` in the mount namespace of `instance`'s sshd, which every SSH session to it shares.
    func inHost(_ lab: LabRun, _ instance: String, _ script: String) throws -> CommandOutput {
        let pid = try #require(lab.sshdPid(instance), "no sshd pid for \(instance)")
        return try ProcessRunner.run(["nsenter", "-t", "\(pid)", "-m", "--", "sh", "-c", script], deadline: 20)
    }

    @Test("hosts without `ss` (iproute2's socket tool removed from /usr/bin): preflight ready, every cell measured, hosts clean")
    func withoutSS() throws {
        let lab = try LabRun(tag: "n", third: 210, profile: "fault-lab")
        defer { lab.down() }
        for host in ["solo-server", "solo-client"] {
            // An overlay on /usr/bin whose upper layer holds a whiteout for `ss`: the host's tools
            // less `ss`, for its sessions only (its private /tmp and mounts go with the lab).
            let hidden = try inHost(lab, host, "mkdir -p /tmp/cb-noss/u /tmp/cb-noss/w && mknod /tmp/cb-noss/u/ss c 0 0 && "
                                    + "mount -t overlay cb-noss -o lowerdir=/usr/bin,upperdir=/tmp/cb-noss/u,workdir=/tmp/cb-noss/w /usr/bin")
            #expect(hidden.status == 0, "\(hidden.stderr)")
            let seen = try inHost(lab, host, "if command -v ss || ls /usr/bin/ss /bin/ss /usr/sbin/ss /sbin/ss 2>/dev/null; then echo has-ss; "
                                  + "else echo no-ss; fi; ls /usr/bin/sh >/dev/null && echo has-sh")
            #expect(seen.stdout == "no-ss\nhas-sh\n", "\(host): \(seen.stdout)")
        }
        let preflight = try ProcessRunner.run(["\(LabRun.bin)/cloudbench", "lab", "exec", "--name", lab.name, "--",
                                               "\(LabRun.bin)/cloudbench", "preflight", lab.inventory], deadline: 120)
        #expect(preflight.status == 0, "\(preflight.stdout)\n\(preflight.stderr)")
        let r = try lab.compare(["--parallel", "1"])
        #expect(r.status == 0, "\(r.stdout)\n\(r.stderr)")
        let records = try lab.records()
        #expect(records.count == 6 && records.allSatisfy { $0["status"] as? String == "ok" },
                "\(records.map { $0["error"] ?? "" })")
        #expect(lab.leftovers() == [])
    }

    @Test("a login user that is not root, with passwordless sudo: preflight ready, host, vxlan, udp and docker measured, hosts clean",
          .enabled(if: (try? ProcessRunner.resolve("sudo")) != nil, "needs sudo installed (APT_PACKAGES)"))
    func nonRootSudo() throws {
        let user = "cbsudo\(getpid() % 100_000)"
        // In each lab host's own /tmp: each host has a home of its own, as separate machines do.
        let home = "/tmp/\(user)"
        let sudoers = "/etc/sudoers.d/\(user)"
        try ProcessRunner.check(["useradd", "--no-create-home", "--home-dir", home, "--shell", "/bin/sh", "--user-group", user])
        // After the lab is down (its defer runs first), when no process of the user is left.
        defer {
            unlink(sudoers)
            _ = try? ProcessRunner.run(["userdel", user])
        }
        // Not locked (`!`): sshd without PAM refuses key logins to locked accounts.
        try ProcessRunner.check(["usermod", "-p", "*", user])
        try "\(user) ALL=(ALL) NOPASSWD: ALL\n".write(toFile: sudoers, atomically: true, encoding: .utf8)
        chmod(sudoers, 0o440)
        let lab = try LabRun(tag: "u", third: 212, profile: "sudo-lab") {
            $0.replacingOccurrences(of: "  user: root\n", with: "  user: \(user)\n")
                .replacingOccurrences(of: "  sudo: false\n", with: "  sudo: true\n")
        }
        defer { lab.down() }
        // sshd reads authorized_keys as the user: the lab's (public keys) readable on its way.
        var dir = lab.state
        while dir != "/" && !dir.isEmpty {
            _ = try? ProcessRunner.run(["chmod", "a+x", dir])
            dir = (dir as NSString).deletingLastPathComponent
        }
        try ProcessRunner.check(["chmod", "a+r", "\(lab.state)/authorized_keys"])
        for host in ["solo-server", "solo-client"] {
            let made = try inHost(lab, host, "mkdir -m 700 \(home) && chown \(user):\(user) \(home)")
            #expect(made.status == 0, "\(made.stderr)")
        }
        let preflight = try ProcessRunner.run(["\(LabRun.bin)/cloudbench", "lab", "exec", "--name", lab.name, "--",
                                               "\(LabRun.bin)/cloudbench", "preflight", lab.inventory], deadline: 120)
        #expect(preflight.status == 0, "\(preflight.stdout)\n\(preflight.stderr)")
        let r = try lab.compare(["--parallel", "1"])
        #expect(r.status == 0, "\(r.stdout)\n\(r.stderr)")
        let records = try lab.records()
        #expect(records.count == 4 && records.allSatisfy { $0["status"] as? String == "ok" }, "\(records.map { $0["error"] ?? "" })")
        #expect(Set(records.compactMap { $0["path"] as? String }) == ["host", "vxlan", "udp", "docker"])
        let vxlan = records.first { $0["path"] as? String == "vxlan" }
        #expect(((vxlan?["detail"] as? [String: Any])?["route"] as? [String: Any])?["device"] as? String == "cbvx0")
        // The agent lives in the user's own home; nothing of the run is left, and nothing the
        // user could not remove (root's cleanup took what sudo made).
        for host in ["solo-server", "solo-client"] {
            let files = try inHost(lab, host, "ls -A \(home)/.cache/cloudbench; ls -A \(home)/.cache/cloudbench/run 2>/dev/null; "
                                   + "find \(home) ! -user \(user)")
            #expect(files.stdout.split(separator: "\n").allSatisfy { $0.hasPrefix("cloudbench-agent-") || $0 == "run.lock" },
                    "\(host): \(files.stdout)")
        }
        #expect(lab.leftovers() == [])
    }
}
