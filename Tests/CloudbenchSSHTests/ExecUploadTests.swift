@testable import CloudbenchSSH
import CloudbenchTestSupport
import Foundation
import NetNS
import Testing

/// Uploads to hosts without SFTP, gzipped agents, and uploads stopped by an interrupt.
extension SSHIntegrationTests {
    private func payload(_ lab: SSHLab, name: String, megabytes: Int) throws -> (path: String, sha: String) {
        let local = lab.dir + "/" + name
        // Half random, half zeros: compresses, but not to nothing.
        try ProcessRunner.check(["sh", "-c", "{ head -c \(megabytes * 512 * 1024) /dev/urandom; head -c \(megabytes * 512 * 1024) /dev/zero; } > '\(local)'"])
        return (local, String(try ProcessRunner.check(["sha256sum", local]).prefix(64)))
    }

    private func gzip(_ path: String) throws -> String {
        try ProcessRunner.check(["sh", "-c", "gzip -6 -c '\(path)' > '\(path).gz'"])
        return path + ".gz"
    }

    private func strays(_ dir: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.contains(".cloudbench-") }
    }

    @Test("a host whose sshd has no SFTP subsystem gets the file over an exec channel, verified, plain or gzipped")
    func uploadWithoutSFTP() throws {
        try withLab { lab in
            let h = try lab.addHost(sftp: false)
            try lab.trust(h)
            let (local, sha) = try payload(lab, name: "agent.bin", megabytes: 8)
            let remoteDir = lab.dir + "/remote-exec"
            let remote = remoteDir + "/cloudbench-agent"
            let session = try SSHSession(host: lab.sshHost(h), socketFactory: lab.socketFactory)
            #expect(try session.uploadMethod() == .exec)

            #expect(try session.upload(localPath: local, remotePath: remote, mode: 0o750, deadline: 60) == .uploaded)
            #expect(String(try ProcessRunner.check(["sha256sum", remote]).prefix(64)) == sha)
            #expect((try FileManager.default.attributesOfItem(atPath: remote)[.posixPermissions] as? Int) == 0o750)
            #expect(try session.upload(localPath: local, remotePath: remote, mode: 0o750) == .skippedSameHash)

            // Gzipped: what arrives is the file itself, checked after decompression.
            let remote2 = remoteDir + "/cloudbench-agent-2"
            #expect(try session.upload(localPath: local, remotePath: remote2, mode: 0o755, deadline: 60, gzipped: try gzip(local)) == .uploaded)
            #expect(String(try ProcessRunner.check(["sha256sum", remote2]).prefix(64)) == sha)
            #expect(try strays(remoteDir).isEmpty)
        }
    }

    @Test("over SFTP a gzipped file is decompressed on the host and checked; a gzip of other bytes is refused and leaves nothing")
    func gzippedOverSFTP() throws {
        try withLab { lab in
            let h = try lab.addHost()
            try lab.trust(h)
            let (local, sha) = try payload(lab, name: "agent.bin", megabytes: 4)
            let (other, _) = try payload(lab, name: "other.bin", megabytes: 1)
            let remoteDir = lab.dir + "/remote-sftp"
            let session = try SSHSession(host: lab.sshHost(h), socketFactory: lab.socketFactory)
            #expect(try session.uploadMethod() == .sftp)
            #expect(try session.upload(localPath: local, remotePath: remoteDir + "/a", deadline: 60, gzipped: try gzip(local)) == .uploaded)
            #expect(String(try ProcessRunner.check(["sha256sum", remoteDir + "/a"]).prefix(64)) == sha)

            let error = #expect(throws: SSHError.self) {
                try session.upload(localPath: local, remotePath: remoteDir + "/b", deadline: 60, gzipped: try gzip(other))
            }
            #expect(error?.description.contains("arrived corrupted") == true)
            #expect(!FileManager.default.fileExists(atPath: remoteDir + "/b"))
            #expect(try strays(remoteDir).isEmpty)
        }
    }

    @Test("an interrupt stops an upload over a thin link within a second; a new connection removes its temporary file",
          arguments: [true, false])
    func interruptedUpload(sftp: Bool) throws {
        try withLab { lab in
            let h = try lab.addHost(sftp: sftp)
            try lab.trust(h)
            // 8 MB at 256 kB/s: half a minute, were it not stopped.
            try Link.shape(h.peerEndpoint, bytesPerSecond: 256 * 1024)
            let (local, _) = try payload(lab, name: "agent.bin", megabytes: 8)
            let remoteDir = lab.dir + "/remote-slow"
            nonisolated(unsafe) let session = try SSHSession(host: lab.sshHost(h), socketFactory: lab.socketFactory)
            // What the upload threw (nil: it finished), once it returned.
            let result = Locked<SSHError??>(nil)
            let uploader = Thread {
                do { _ = try session.upload(localPath: local, remotePath: remoteDir + "/agent", deadline: 120) }
                catch { result.withLock { $0 = .some(error as? SSHError) }; return }
                result.withLock { $0 = .some(nil) }
            }
            uploader.start()
            // Wait until the temporary file is there and growing.
            let until = Date().addingTimeInterval(20)
            while Date() < until, (try? strays(remoteDir))?.isEmpty ?? true { usleep(100_000) }
            #expect(try !strays(remoteDir).isEmpty)
            let requested = Date()
            SSHAbort.request()
            while result.value == nil, Date().timeIntervalSince(requested) < 15 { usleep(20_000) }
            let took = Date().timeIntervalSince(requested)
            let error = try #require(result.value)
            // The temporary file goes over a new connection, which may wait for the link to drain.
            #expect(took < 5, "the upload ended \(took) s after the interrupt")
            #expect(error.map { if case .interrupted = $0 { true } else { false } } == true, "\(String(describing: error))")
            #expect(try strays(remoteDir).isEmpty)
            // The session is given up; a new one to the same host works.
            #expect(throws: SSHError.self) { try session.exec("true", deadline: 5) }
            #expect(try session.sibling().exec("echo ok", deadline: 10).stdout == "ok\n")
        }
    }
}
