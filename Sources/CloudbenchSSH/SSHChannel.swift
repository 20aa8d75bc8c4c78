import CSSH2
import Foundation

/// A libssh2 channel that keeps its session alive; freed (briefly, never hanging) on deinit.
final class SSHChannel {
    let session: SSHSession
    let raw: OpaquePointer

    init(session: SSHSession, raw: OpaquePointer) {
        self.session = session
        self.raw = raw
    }

    /// Opens a "session" channel (the kind exec and sftp use).
    static func openSession(_ session: SSHSession, deadline: Deadline, during: String,
                            onTimeout: () -> SSHError) throws -> SSHChannel {
        let ptr = try session.retryPointer(deadline, onTimeout: onTimeout) {
            libssh2_channel_open_ex(session.raw, "session", 7, 2 * 1024 * 1024, 32768, nil, 0)
        }
        guard let ptr else { throw session.failure(session.lastError().code, during: during) }
        return SSHChannel(session: session, raw: ptr)
    }

    /// Set when the channel is given up on (deadline passed, connection lost): deinit then
    /// does not wait for the host to confirm the close; `libssh2_session_free` finishes it.
    var abandoned = false

    deinit {
        if abandoned {
            _ = libssh2_channel_free(raw)
            return
        }
        // libssh2 sends a close if needed; on a dead connection that fails fast, and on a slow
        // one we give it one second rather than hold the caller.
        let deadline = Deadline(seconds: 1)
        while libssh2_channel_free(raw) == LIBSSH2_ERROR_EAGAIN {
            if (try? session.waitSocket(deadline, onTimeout: { .operationTimedOut(host: "", during: "", seconds: 1) })) == nil {
                // Give up waiting; let blocking mode with a short timeout finish the job.
                libssh2_session_set_blocking(session.raw, 1)
                libssh2_session_set_timeout(session.raw, 200)
                libssh2_channel_free(raw)
                libssh2_session_set_timeout(session.raw, 0)
                libssh2_session_set_blocking(session.raw, 0)
                break
            }
        }
    }
}
