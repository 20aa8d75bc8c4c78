@testable import CloudbenchSSH
import CloudbenchTestSupport
import Foundation
import NetNS
import Testing

extension SSHIntegrationTests {
    @Test("a 50 MB upload arrives verified with its mode; a second one is skipped by hash")
    func upload50MB() throws {
        try withLab { lab in
            let h = try lab.addHost()
            try lab.trust(h)
            let local = lab.dir + "/payload.bin"
            try ProcessRunner.check(["dd", "if=/dev/urandom", "of=\(local)", "bs=1M", "count=50", "status=none"])
            let localHash = String(try ProcessRunner.check(["sha256sum", local]).prefix(64))
            // The lab's hosts share this filesystem, so the "remote" file can be checked directly.
            let remoteDir = lab.dir + "/remote/deep"
            let remote = remoteDir + "/cloudbench-agent"
            let session = try SSHSession(host: lab.sshHost(h), socketFactory: lab.socketFactory)

            let (first, seconds) = try timed { try session.upload(localPath: local, remotePath: remote, mode: 0o750, deadline: 120) }
            #expect(first == .uploaded)
            #expect(String(try ProcessRunner.check(["sha256sum", remote]).prefix(64)) == localHash)
            let attributes = try FileManager.default.attributesOfItem(atPath: remote)
            #expect((attributes[.posixPermissions] as? Int) == 0o750)
            #expect(try FileManager.default.contentsOfDirectory(atPath: remoteDir) == ["cloudbench-agent"])
            print("upload: 50 MiB in \(String(format: "%.2f", seconds)) s = \(String(format: "%.1f", 50 / seconds)) MiB/s")

            let (second, skipSeconds) = try timed { try session.upload(localPath: local, remotePath: remote, mode: 0o750) }
            #expect(second == .skippedSameHash)
            #expect(skipSeconds < seconds)

            // A different file on the host is replaced, atomically, by the right one.
            try ProcessRunner.check(["sh", "-c", "echo tampered >> '\(remote)'"])
            #expect(try session.upload(localPath: local, remotePath: remote, mode: 0o750) == .uploaded)
            #expect(String(try ProcessRunner.check(["sha256sum", remote]).prefix(64)) == localHash)
        }
    }

    @Test("an upload to a place the user cannot write fails with a sentence and leaves no temporary file")
    func uploadRefused() throws {
        try withLab { lab in
            let h = try lab.addHost()
            try lab.trust(h)
            let local = lab.dir + "/small.bin"
            try Data("hello".utf8).write(to: URL(fileURLWithPath: local))
            let session = try SSHSession(host: lab.sshHost(h), socketFactory: lab.socketFactory)
            // A regular file where a directory should be: even root cannot create inside it.
            let blocker = lab.dir + "/not-a-dir"
            try Data().write(to: URL(fileURLWithPath: blocker))
            let error = #expect(throws: SSHError.self) {
                try session.upload(localPath: local, remotePath: blocker + "/agent", mode: 0o755, deadline: 10)
            }
            #expect(error?.description.hasPrefix("web-1 (\(h.address):22): upload to \(blocker)/agent failed") == true)
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: lab.dir).filter { $0.contains(".cloudbench-") }
            #expect(leftovers.isEmpty)
        }
    }
}
