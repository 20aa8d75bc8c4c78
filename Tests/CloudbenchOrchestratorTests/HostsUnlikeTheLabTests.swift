@testable import CloudbenchOrchestrator
import CloudbenchSSH
import CloudbenchTestSupport
import Foundation
import NetNS
import Testing

/// Hosts unlike the built-in lab: an sshd without SFTP, a home on a `noexec` mount.
@Suite("hosts unlike the lab", .enabled(if: getuid() == 0, "needs root for network namespaces and mounts"), .serialized)
struct HostsUnlikeTheLabTests {
    @Test("a probe that found no folder to run the agent from makes the host not ready, saying what to change")
    func noExecFolder() {
        let facts = HostProbe.parse("arch=x86_64\nkernel=6.1\nhome=/home/u\nuid=1000\nglibc=glibc 2.36\nsudo=missing\nexecdir=\n")!
        #expect(facts.agentDirectory == "")
        let problems = facts.problems(host: "web-1", user: "u", sudoAllowed: false)
        #expect(problems == ["web-1: no folder to run the agent from: $HOME/.cache/cloudbench, /var/tmp/cloudbench-$(id -u), "
            + "/dev/shm/cloudbench-$(id -u) are on noexec mounts or not writable by u; mount /var/tmp (or the home) without noexec, or log in as another user"])
        // A probe from before the folder check (no `execdir` line) keeps the home's cache.
        let old = HostProbe.parse("arch=x86_64\nhome=/home/u\nuid=0\nglibc=2.36\n")!
        #expect(old.agentDirectory == nil && RemoteLayout(home: old.home, agentDirectory: old.agentDirectory).directory == "/home/u/.cache/cloudbench")
    }

    @Test("preflight and deploy: a host without SFTP gets the agent gzipped over exec; a noexec home runs it from /var/tmp")
    func deploy() async throws {
        let lab = try SSHLab()
        defer { lab.tearDown() }
        let plainHome = lab.dir + "/home-plain", noexecHome = lab.dir + "/home-noexec"
        for d in [plainHome, noexecHome] { try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true) }
        try ProcessRunner.check(["mount", "-t", "tmpfs", "-o", "size=32m,noexec", "cbnoexec", noexecHome])
        defer { _ = try? ProcessRunner.check(["umount", noexecHome]) }
        let varTmp = "/var/tmp/cloudbench-0"
        let hadVarTmp = FileManager.default.fileExists(atPath: varTmp)
        defer { if !hadVarTmp { try? FileManager.default.removeItem(atPath: varTmp) } }

        let noSFTP = try lab.addHost(sftp: false, home: plainHome)
        let noexec = try lab.addHost(home: noexecHome)
        try lab.trust(noSFTP)
        try lab.trust(noexec)
        let connector = SSHConnector(policy: .strict, socketFactory: lab.socketFactory)
        let targets = [(noSFTP, "nosftp"), (noexec, "noexec")].map { h, label in
            PreflightTarget(label: label, role: "server", pair: "p", user: "root", sudoAllowed: false) {
                try await connector.connect(lab.sshHost(h, label: label), label: label)
            }
        }
        let checked = await Preflight.check(targets)
        #expect(checked.map(\.row.ready) == [true, true], "\(checked.map(\.row.problems))")
        #expect(checked.map(\.row.upload) == ["exec+gzip", "sftp+gzip"])
        #expect(checked[0].facts?.agentDirectory == plainHome + "/.cache/cloudbench")
        #expect(checked[1].facts?.agentDirectory == varTmp)

        let binary = LabRun.bin + "/cloudbench-agent"
        let deploy = AgentDeploy(binaries: AgentBinaries(byArch: [try #require(checked[0].facts?.arch): binary]))
        let sha = String(try ProcessRunner.check(["sha256sum", binary]).prefix(64))
        for c in checked {
            let host = try await deploy.deploy(shell: try #require(c.shell), facts: try #require(c.facts), sudoAllowed: false)
            let placed = host.layout.agentPath(sha256: host.agentSHA)
            #expect(placed.hasPrefix(c.facts!.agentDirectory! + "/"))
            #expect(String(try ProcessRunner.check(["sha256sum", placed]).prefix(64)) == sha)
            #expect(try FileManager.default.contentsOfDirectory(atPath: c.facts!.agentDirectory!).allSatisfy { !$0.contains(".cloudbench-") })
        }
        // Nothing was run from the noexec home, and nothing of the agent was put there.
        #expect(!FileManager.default.fileExists(atPath: noexecHome + "/.cache/cloudbench/" + "cloudbench-agent-\(sha.prefix(16))"))
    }
}

@Suite("the gzipped agent")
struct GzippedAgentTests {
    @Test("hosts deploying at once share one gzip, made once and kept; it decompresses to the binary")
    func madeOnce() async throws {
        let dir = NSTemporaryDirectory() + "cb-gz-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let binary = dir + "/agent"
        try ProcessRunner.check(["sh", "-c", "head -c 2000000 /dev/urandom > '\(binary)'; head -c 2000000 /dev/zero >> '\(binary)'"])
        let sha = String(try ProcessRunner.check(["sha256sum", binary]).prefix(64))
        let agents = GzippedAgents(directory: dir + "/cache")
        let paths = await withTaskGroup(of: String?.self) { group in
            for _ in 0..<8 { group.addTask { await agents.gzipped(binary, sha256: sha) } }
            return await group.reduce(into: [String?]()) { $0.append($1) }
        }
        let path = try #require(paths.first ?? nil)
        #expect(paths.allSatisfy { $0 == path })
        #expect(GzippedAgents.decompressedSHA256(path) == sha)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/cache") == [(path as NSString).lastPathComponent])
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? 0
        #expect(size > 0 && size < 3_000_000)
        // A kept gzip that no longer matches is made again.
        try Data("not a gzip".utf8).write(to: URL(fileURLWithPath: path))
        #expect(GzippedAgents.make(binary, sha256: sha, in: dir + "/cache") == path)
        #expect(GzippedAgents.decompressedSHA256(path) == sha)
    }
}
