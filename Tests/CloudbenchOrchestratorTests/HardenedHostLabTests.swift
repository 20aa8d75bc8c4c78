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
            let seen = try inHost(lab, host, "command -v ss || ls /usr/bin/ss /bin/ss /usr/sbin/ss /sbin/ss 2>/dev/null; command -v ip")
            #expect(seen.stdout == "/usr/bin/ip\n", "the host still has ss: \(seen.stdout)")
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
}
