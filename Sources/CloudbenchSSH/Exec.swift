@_exported import CloudbenchProcess
import CSSH2
import Foundation

/// What a command reads on its standard input: bytes in memory, or a local file streamed.
enum ExecInput {
    case bytes([UInt8])
    case file(FileHandle)
}

/// Which of a command's outputs a piece of streamed data came from.
public enum ExecStream: Sendable, Hashable {
    case stdout
    case stderr
}

extension SSHSession {
    /// Runs `command` and collects its output; throws `commandTimedOut` after `deadline` seconds.
    ///
    /// Each stream keeps its last `RemoteText.limit` bytes (a cut is said) and is sanitised
    /// (`RemoteText.sanitised`): what a host prints can be printed here without harm.
    /// With `asRoot` and the host's `sudo: true`, the command runs under `sudo -n`, and a
    /// sudo that asks for a password becomes `SSHError.sudoNeedsPassword`.
    /// `input`, when given, is written to the command's standard input, which then ends: how a
    /// secret reaches a remote process without showing in its command line.
    public func exec(_ command: String, deadline: Double, asRoot: Bool = false, limit: Int = RemoteText.limit,
                     input: [UInt8]? = nil) throws -> CommandOutput {
        try exec(command, deadline: deadline, asRoot: asRoot, limit: limit, feeding: input.map(ExecInput.bytes))
    }

    /// `exec` with the standard input read from `input` (a local file streamed as it is read).
    func exec(_ command: String, deadline: Double, asRoot: Bool = false, limit: Int = RemoteText.limit,
              feeding input: ExecInput?) throws -> CommandOutput {
        var out = RemoteText.Tail(limit: limit), err = RemoteText.Tail(limit: limit)
        let (status, signal) = try run(command, deadline: deadline, asRoot: asRoot, input: input) { stream, bytes in
            switch stream {
            case .stdout: out.append(bytes)
            case .stderr: err.append(bytes)
            }
        }
        return CommandOutput(status: status, stdout: out.text, stderr: err.text, signal: signal)
    }

    /// Runs `command`, handing output to `onOutput` as it arrives; returns the exit status
    /// (-1 if killed by a signal). Throws `commandTimedOut` after `deadline` seconds.
    public func stream(_ command: String, deadline: Double, asRoot: Bool = false,
                       onOutput: (ExecStream, Data) -> Void) throws -> Int32 {
        try run(command, deadline: deadline, asRoot: asRoot, onOutput: onOutput).status
    }

    /// The command line actually sent: `sudo -n` wraps it when root is asked for and configured.
    public func remoteCommand(_ command: String, asRoot: Bool) -> String {
        guard asRoot && host.sudo else { return command }
        return Sudo.wrap(command)
    }

    private func run(_ command: String, deadline seconds: Double, asRoot: Bool, input: ExecInput? = nil,
                     onOutput: (ExecStream, Data) -> Void) throws -> (status: Int32, signal: String?) {
        try call("`\(command)`") {
            try runCall(command, deadline: seconds, asRoot: asRoot, input: input, onOutput: onOutput)
        }
    }

    private func runCall(_ command: String, deadline seconds: Double, asRoot: Bool, input: ExecInput?,
                         onOutput: (ExecStream, Data) -> Void) throws -> (status: Int32, signal: String?) {
        let deadline = Deadline(seconds: seconds)
        let timeout = { SSHError.commandTimedOut(host: self.host.description, command: command, seconds: seconds) }
        let line = remoteCommand(command, asRoot: asRoot)
        let channel = try SSHChannel.openSession(self, deadline: deadline, during: "`\(command)`", onTimeout: timeout)
        do {
            return try run(on: channel, command: command, line: line, asRoot: asRoot, input: input, deadline: deadline,
                           timeout: timeout, onOutput: onOutput)
        } catch {
            // The caller hears of the failure now, not after a close handshake with a dead host.
            channel.abandoned = true
            throw error
        }
    }

    private func run(on channel: SSHChannel, command: String, line: String, asRoot: Bool, input: ExecInput?, deadline: Deadline,
                     timeout: () -> SSHError, onOutput: (ExecStream, Data) -> Void) throws -> (status: Int32, signal: String?) {
        let started = try retry(deadline, onTimeout: timeout) {
            libssh2_channel_process_startup(channel.raw, "exec", 4, line, UInt32(line.utf8.count))
        }
        guard started == 0 else { throw failure(started, during: "starting `\(command)`") }
        if let input {
            func write(_ piece: ArraySlice<UInt8>) throws {
                var sent = piece.startIndex
                while sent < piece.endIndex {
                    let n = try piece[sent...].withUnsafeBytes { b in
                        try retry(deadline, onTimeout: timeout) {
                            Int32(clamping: libssh2_channel_write_ex(channel.raw, 0, b.baseAddress!.assumingMemoryBound(to: CChar.self), b.count))
                        }
                    }
                    guard n > 0 else { throw failure(n, during: "writing the standard input of `\(command)`") }
                    sent += Int(n)
                }
            }
            switch input {
            case .bytes(let bytes): try write(bytes[...])
            case .file(let handle):
                // A bounded read at a time: the file may be larger than memory should hold.
                while let chunk = try handle.read(upToCount: 256 * 1024), !chunk.isEmpty {
                    try checkInterrupted()
                    try write(Array(chunk)[...])
                }
            }
            let eof = try retry(deadline, onTimeout: timeout) { libssh2_channel_send_eof(channel.raw) }
            guard eof == 0 else { throw failure(eof, during: "ending the standard input of `\(command)`") }
        }

        // Keep the last bit of stderr even when streaming, to recognise sudo's complaints.
        var stderrTail = Data()
        var buffer = [UInt8](repeating: 0, count: 32 * 1024)
        var lastHeard = ContinuousClock.now
        while true {
            var progressed = false
            for (streamID, kind) in [(Int32(0), ExecStream.stdout), (Int32(1), ExecStream.stderr)] {
                while true {
                    let n = buffer.withUnsafeMutableBytes {
                        libssh2_channel_read_ex(channel.raw, streamID, $0.baseAddress!.assumingMemoryBound(to: CChar.self), $0.count)
                    }
                    if n > 0 {
                        let data = Data(buffer[0..<n])
                        if kind == .stderr {
                            stderrTail.append(data)
                            if stderrTail.count > 4096 { stderrTail = stderrTail.suffix(4096) }
                        }
                        onOutput(kind, data)
                        progressed = true
                        continue
                    }
                    if n == Int(LIBSSH2_ERROR_EAGAIN) { break }
                    if n < 0 { throw failure(Int32(n), during: "`\(command)`") }
                    break  // 0: nothing more on this stream for now
                }
            }
            if progressed {
                lastHeard = ContinuousClock.now
                try checkInterrupted()
                continue
            }
            if libssh2_channel_eof(channel.raw) != 0 { break }
            if try waitSocket(deadline, onTimeout: timeout) { lastHeard = ContinuousClock.now }
            // A live sshd answers every keepalive; one that stays silent through three is gone
            // (powered off, or a firewall dropped the connection), however far the deadline.
            if let limit = silenceLimit, ContinuousClock.now - lastHeard > .milliseconds(Int64(limit * 1000)) {
                throw SSHError.connectionLost(host: host.description, during: "`\(command)`",
                                              detail: "no answer to keepalives for \(Int(limit)) s")
            }
        }
        // The exit status arrives with (or just before) the close.
        var rc = try retry(deadline, onTimeout: timeout) { libssh2_channel_close(channel.raw) }
        if rc == 0 { rc = try retry(deadline, onTimeout: timeout) { libssh2_channel_wait_closed(channel.raw) } }
        if rc != 0 && rc != LIBSSH2_ERROR_CHANNEL_CLOSED { throw failure(rc, during: "`\(command)`") }
        var signalPtr: UnsafeMutablePointer<CChar>?
        var signalLen = 0
        _ = libssh2_channel_get_exit_signal(channel.raw, &signalPtr, &signalLen, nil, nil, nil, nil)
        var signal: String?
        if let signalPtr {
            signal = String(cString: signalPtr)
            libssh2_free(raw, signalPtr)
        }
        let status = signal == nil ? libssh2_channel_get_exit_status(channel.raw) : -1

        if asRoot && host.sudo {
            switch Sudo.refusal(status: status, stderr: String(decoding: stderrTail, as: UTF8.self)) {
            case .needsPassword: throw SSHError.sudoNeedsPassword(host: host.description, user: host.user)
            case .missing: throw SSHError.sudoMissing(host: host.description)
            case nil: break
            }
        }
        return (status, signal)
    }
}
