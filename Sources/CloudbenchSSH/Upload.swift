import CSSH2
import Foundation

/// Whether an upload sent bytes or found the same file already in place.
public enum UploadOutcome: Sendable, Hashable {
    case uploaded
    case skippedSameHash
}

/// How a file travels to a host: SFTP when the host's sshd offers the subsystem, else streamed
/// into `cat` (or `gzip -dc`) over an exec channel, as hardened images and minimal containers
/// without `Subsystem sftp` require.
public enum UploadMethod: String, Sendable, Hashable {
    case sftp
    case exec
}

/// An SFTP subsystem that keeps its session alive.
final class SFTPSession {
    let session: SSHSession
    let raw: OpaquePointer

    /// Starts SFTP; nil when the host's sshd refuses the subsystem (it has no `Subsystem sftp`).
    static func start(session: SSHSession, deadline: Deadline, onTimeout: () -> SSHError) throws -> SFTPSession? {
        if let ptr = try session.retryPointer(deadline, onTimeout: onTimeout, { libssh2_sftp_init(session.raw) }) {
            return SFTPSession(session: session, raw: ptr)
        }
        let (code, _) = session.lastError()
        // sshd answers a subsystem it does not have with a channel failure; the session lives on.
        if code == LIBSSH2_ERROR_CHANNEL_FAILURE { return nil }
        throw session.failure(code, during: "starting SFTP")
    }

    private init(session: SSHSession, raw: OpaquePointer) {
        self.session = session
        self.raw = raw
    }

    deinit {
        let deadline = Deadline(seconds: 1)
        while libssh2_sftp_shutdown(raw) == LIBSSH2_ERROR_EAGAIN {
            if (try? session.waitSocket(deadline, onTimeout: { .operationTimedOut(host: "", during: "", seconds: 1) })) == nil { break }
        }
    }
}

/// An open remote file that keeps its SFTP session (and so the SSH session) alive.
final class SFTPFile {
    let sftp: SFTPSession
    let raw: OpaquePointer
    private var closed = false

    init(sftp: SFTPSession, raw: OpaquePointer) {
        self.sftp = sftp
        self.raw = raw
    }

    func close(deadline: Deadline, onTimeout: () -> SSHError) throws -> Int32 {
        closed = true
        return try sftp.session.retry(deadline, onTimeout: onTimeout) { libssh2_sftp_close_handle(raw) }
    }

    deinit {
        guard !closed else { return }
        _ = try? close(deadline: Deadline(seconds: 1), onTimeout: { .operationTimedOut(host: "", during: "", seconds: 1) })
    }
}

extension SSHSession {
    /// Copies `localPath` to `remotePath` with `mode`, unless the host already has the same bytes.
    ///
    /// The file goes to a temporary name next to the target, is checked with `sha256sum` on the
    /// host, then renamed over the target, so a reader never sees half a file and a repeated
    /// deploy sends nothing. With `gzipped` (a gzip of `localPath`), that is what travels, and
    /// the host decompresses it with `gzip -dc` before the check. It travels by SFTP, or over
    /// an exec channel when the host has no SFTP (`uploadMethod`).
    public func upload(localPath: String, remotePath: String, mode: Int32 = 0o755,
                       deadline seconds: Double = 600, gzipped: String? = nil) throws -> UploadOutcome {
        try call("upload to \(remotePath)") {
            try uploadCall(localPath: localPath, remotePath: remotePath, mode: mode, seconds: seconds, gzipped: gzipped)
        }
    }

    /// How uploads reach this host: SFTP if its sshd offers the subsystem, else an exec channel.
    /// Asked once per session (by the first upload, or by preflight).
    public func uploadMethod(deadline seconds: Double = 10) throws -> UploadMethod {
        try call("asking for SFTP") {
            let deadline = Deadline(seconds: seconds)
            return try uploadMethod(deadline: deadline) {
                SSHError.operationTimedOut(host: self.host.description, during: "starting SFTP", seconds: seconds)
            }
        }
    }

    private func uploadMethod(deadline: Deadline, onTimeout: () -> SSHError) throws -> UploadMethod {
        if let knownUploadMethod { return knownUploadMethod }
        let method: UploadMethod = try SFTPSession.start(session: self, deadline: deadline, onTimeout: onTimeout) == nil ? .exec : .sftp
        knownUploadMethod = method
        return method
    }

    private func uploadCall(localPath: String, remotePath: String, mode: Int32, seconds: Double,
                            gzipped: String?) throws -> UploadOutcome {
        let deadline = Deadline(seconds: seconds)
        let timeout = { SSHError.operationTimedOut(host: self.host.description, during: "upload to \(remotePath)", seconds: seconds) }
        let localHash: String
        do {
            localHash = try Digest.sha256Hex(ofFile: localPath)
        } catch {
            throw SSHError.uploadFailed(host: host.description, path: remotePath, detail: "cannot read local file \(localPath)")
        }
        let modeText = String(mode, radix: 8)
        let target = shellQuote(remotePath)
        let check = try exec("[ -f \(target) ] && sha256sum -- \(target) | cut -c1-64 && stat -c %a -- \(target)",
                             deadline: deadline.secondsLeft)
        let seen = check.stdout.split(separator: "\n").map(String.init)
        if check.status == 0, seen.count == 2, seen[0] == localHash {
            if seen[1] != modeText {
                try checked(exec("chmod \(modeText) -- \(target)", deadline: deadline.secondsLeft), remotePath, "chmod")
            }
            return .skippedSameHash
        }

        let directory = (remotePath as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try checked(exec("mkdir -p -- \(shellQuote(directory))", deadline: deadline.secondsLeft), remotePath, "mkdir")
        }
        let temporary = remotePath + ".cloudbench-\(UInt32.random(in: 0...UInt32.max))"
        let tmp = shellQuote(temporary), tmpGz = shellQuote(temporary + ".gz")
        do {
            switch try uploadMethod(deadline: deadline, onTimeout: timeout) {
            case .sftp:
                if let gzipped {
                    try send(gzipped, to: temporary + ".gz", deadline: deadline, onTimeout: timeout, remotePath: remotePath)
                    try checked(exec("gzip -dc < \(tmpGz) > \(tmp); s=$?; rm -f -- \(tmpGz); exit $s", deadline: deadline.secondsLeft),
                                remotePath, "gzip -dc")
                } else {
                    try send(localPath, to: temporary, deadline: deadline, onTimeout: timeout, remotePath: remotePath)
                }
            case .exec:
                try stream(gzipped ?? localPath, into: "umask 077; " + (gzipped == nil ? "cat" : "gzip -dc") + " > \(tmp)",
                           deadline: deadline, remotePath: remotePath)
            }
            let verify = try exec("sha256sum -- \(tmp) | cut -c1-64", deadline: deadline.secondsLeft)
            let remoteHash = verify.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            guard verify.status == 0, remoteHash == localHash else {
                throw SSHError.uploadCorrupted(host: host.description, path: remotePath, expected: localHash, actual: remoteHash)
            }
            try checked(exec("chmod \(modeText) -- \(tmp) && mv -f -- \(tmp) \(target)", deadline: deadline.secondsLeft),
                        remotePath, "rename")
            return .uploaded
        } catch {
            // Do not leave half a binary behind, unless the host is gone or silent: then the
            // caller hears at once, and the next upload overwrites nothing but its own temp name.
            // An interrupted upload gave its session up: a new connection removes the temporary
            // file, on a short deadline of its own.
            let remove = "rm -f -- \(tmp) \(tmpGz)"
            switch error {
            case SSHError.connectionLost, SSHError.operationTimedOut, SSHError.commandTimedOut: break
            case SSHError.interrupted:
                var quick = host
                quick.connectTimeout = min(host.connectTimeout, 3)
                _ = try? SSHSession(host: quick, policy: policy, socketFactory: socketFactory).exec(remove, deadline: 3)
            default: _ = try? exec(remove, deadline: 5)
            }
            throw error
        }
    }

    /// Streams `localPath` into `command`'s standard input over an exec channel.
    private func stream(_ localPath: String, into command: String, deadline: Deadline, remotePath: String) throws {
        guard let input = FileHandle(forReadingAtPath: localPath) else {
            throw SSHError.uploadFailed(host: host.description, path: remotePath, detail: "cannot read local file \(localPath)")
        }
        defer { try? input.close() }
        try checked(exec(command, deadline: deadline.secondsLeft, feeding: .file(input)), remotePath, "streaming over exec")
    }

    private func checked(_ result: CommandOutput, _ path: String, _ step: String) throws {
        guard result.status == 0 else {
            let said = result.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
            throw SSHError.uploadFailed(host: host.description, path: path, detail: "\(step): \(said.isEmpty ? "exit status \(result.status)" : said)")
        }
    }

    private func send(_ localPath: String, to remote: String, deadline: Deadline, onTimeout: () -> SSHError,
                      remotePath: String) throws {
        guard let input = FileHandle(forReadingAtPath: localPath) else {
            throw SSHError.uploadFailed(host: host.description, path: remotePath, detail: "cannot read local file \(localPath)")
        }
        defer { try? input.close() }
        guard let sftp = try SFTPSession.start(session: self, deadline: deadline, onTimeout: onTimeout) else {
            throw SSHError.uploadFailed(host: host.description, path: remotePath, detail: "the host refused the SFTP subsystem")
        }
        let flags = UInt(LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT | LIBSSH2_FXF_TRUNC)
        let handle = try retryPointer(deadline, onTimeout: onTimeout) {
            libssh2_sftp_open_ex(sftp.raw, remote, UInt32(remote.utf8.count), flags, 0o600, LIBSSH2_SFTP_OPENFILE)
        }
        guard let handle else {
            let code = libssh2_sftp_last_error(sftp.raw)
            throw SSHError.uploadFailed(host: host.description, path: remotePath, detail: "cannot create \(remote): \(sftpStatus(code))")
        }
        let file = SFTPFile(sftp: sftp, raw: handle)
        // Large pieces let libssh2 keep several SFTP writes in flight at once.
        while true {
            let chunk = try input.read(upToCount: 1 << 20) ?? Data()
            if chunk.isEmpty { break }
            var offset = 0
            while offset < chunk.count {
                let n = try chunk.withUnsafeBytes { buf in
                    try retry(deadline, onTimeout: onTimeout) {
                        Int32(clamping: libssh2_sftp_write(file.raw,
                                                           buf.baseAddress!.advanced(by: offset).assumingMemoryBound(to: CChar.self),
                                                           chunk.count - offset))
                    }
                }
                if n < 0 {
                    let code = libssh2_sftp_last_error(sftp.raw)
                    throw n == LIBSSH2_ERROR_SFTP_PROTOCOL
                        ? SSHError.uploadFailed(host: host.description, path: remotePath, detail: sftpStatus(code))
                        : failure(n, during: "upload to \(remotePath)")
                }
                offset += Int(n)
            }
        }
        let rc = try file.close(deadline: deadline, onTimeout: onTimeout)
        if rc != 0 { throw SSHError.uploadFailed(host: host.description, path: remotePath, detail: "closing the file failed") }
    }

    private func sftpStatus(_ code: UInt) -> String {
        switch code {
        case UInt(LIBSSH2_FX_PERMISSION_DENIED): return "permission denied"
        case UInt(LIBSSH2_FX_NO_SUCH_FILE), UInt(LIBSSH2_FX_NO_SUCH_PATH): return "no such directory"
        case UInt(LIBSSH2_FX_NO_SPACE_ON_FILESYSTEM): return "no space left on the host"
        case UInt(LIBSSH2_FX_QUOTA_EXCEEDED): return "quota exceeded"
        default: return "SFTP status \(code)"
        }
    }
}

extension Deadline {
    /// What is left, as the seconds a nested call takes.
    var secondsLeft: Double {
        let c = remaining.components
        return Double(c.seconds) + Double(c.attoseconds) / 1e18
    }
}
