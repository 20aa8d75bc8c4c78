import CSSH2
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A direct-tcpip channel through a jump host, presented to a second libssh2 session as a
/// local socket.
///
/// libssh2 sessions need a file descriptor, so one end of a socketpair goes to the target's
/// session and a pump thread copies bytes between the other end and the channel. From the
/// moment the pump starts it is the only user of the jump session (one thread per session).
final class JumpTunnel: @unchecked Sendable {
    /// The descriptor the target session runs over; that session closes it.
    let sessionFD: Int32
    private let pumpFD: Int32
    private var jump: SSHSession?
    private var channel: SSHChannel?
    private let lock = NSLock()
    private var stopRequested = false

    private init(jump: SSHSession, channel: SSHChannel, sessionFD: Int32, pumpFD: Int32) {
        self.jump = jump
        self.channel = channel
        self.sessionFD = sessionFD
        self.pumpFD = pumpFD
    }

    /// Asks `jump` to connect to `host` and starts pumping.
    static func open(through jump: SSHSession, to host: SSHHost) throws -> JumpTunnel {
        let deadline = Deadline(seconds: host.connectTimeout)
        let seconds = host.connectTimeout
        let ptr = try jump.retryPointer(deadline, onTimeout: {
            .jumpFailed(host: host.description, jump: jump.host.description, detail: "no answer within \(Int(seconds)) s")
        }) {
            libssh2_channel_direct_tcpip_ex(jump.raw, host.address, Int32(host.port), "127.0.0.1", 22)
        }
        guard let ptr else {
            throw SSHError.jumpFailed(host: host.description, jump: jump.host.description, detail: jump.lastError().message)
        }
        let channel = SSHChannel(session: jump, raw: ptr)
        var fds: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) == 0 else {
            throw SSHError.jumpFailed(host: host.description, jump: jump.host.description, detail: String(cString: strerror(errno)))
        }
        _ = fcntl(fds[1], F_SETFL, fcntl(fds[1], F_GETFL) | O_NONBLOCK)
        let tunnel = JumpTunnel(jump: jump, channel: channel, sessionFD: fds[0], pumpFD: fds[1])
        let thread = Thread { tunnel.pump() }
        thread.name = "cloudbench-jump-\(jump.host.label)"
        thread.start()
        return tunnel
    }

    /// Called by the target session once it closed `sessionFD`; the pump ends on its own then.
    func finish() {
        lock.lock(); stopRequested = true; lock.unlock()
    }

    private var shouldStop: Bool { lock.lock(); defer { lock.unlock() }; return stopRequested }

    private func pump() {
        guard let jump, let channel else { return }
        defer {
            close(pumpFD)
            // Channel first, then the session it holds: disconnect happens on this thread.
            self.channel = nil
            self.jump = nil
        }
        var toChannel = [UInt8](), toChannelOffset = 0
        var toLocal = [UInt8](), toLocalOffset = 0
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while !shouldStop {
            var progressed = false
            // Target → jump host.
            if toChannelOffset == toChannel.count {
                let n = buffer.withUnsafeMutableBytes { recv(pumpFD, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
                if n > 0 {
                    toChannel = Array(buffer[0..<n]); toChannelOffset = 0; progressed = true
                } else if n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                    return  // the target session closed its end
                }
            }
            if toChannelOffset < toChannel.count {
                let w = toChannel.withUnsafeBytes {
                    libssh2_channel_write_ex(channel.raw, 0, $0.baseAddress!.advanced(by: toChannelOffset).assumingMemoryBound(to: CChar.self),
                                             toChannel.count - toChannelOffset)
                }
                if w > 0 { toChannelOffset += w; progressed = true } else if w != Int(LIBSSH2_ERROR_EAGAIN) { return }
            }
            // Jump host → target.
            if toLocalOffset == toLocal.count {
                let n = buffer.withUnsafeMutableBytes {
                    libssh2_channel_read_ex(channel.raw, 0, $0.baseAddress!.assumingMemoryBound(to: CChar.self), $0.count)
                }
                if n > 0 {
                    toLocal = Array(buffer[0..<n]); toLocalOffset = 0; progressed = true
                } else if n == Int(LIBSSH2_ERROR_EAGAIN) {
                    // nothing yet
                } else if n < 0 || libssh2_channel_eof(channel.raw) != 0 {
                    return  // the far end or the jump connection went away; the target sees EOF
                }
            }
            if toLocalOffset < toLocal.count {
                let w = toLocal.withUnsafeBytes {
                    send(pumpFD, $0.baseAddress!.advanced(by: toLocalOffset), toLocal.count - toLocalOffset, Int32(MSG_DONTWAIT | MSG_NOSIGNAL))
                }
                if w > 0 { toLocalOffset += w; progressed = true } else if errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR { return }
            }
            if progressed { continue }

            var waitMs: Int32 = 1000
            var next: Int32 = 0
            if libssh2_keepalive_send(jump.raw, &next) == 0, next > 0 { waitMs = min(waitMs, Int32(clamping: Int(next) * 1000)) }
            var localEvents: Int16 = 0
            if toChannelOffset == toChannel.count { localEvents |= Int16(POLLIN) }
            if toLocalOffset < toLocal.count { localEvents |= Int16(POLLOUT) }
            var jumpEvents: Int16 = 0
            let dirs = libssh2_session_block_directions(jump.raw)
            if toLocalOffset == toLocal.count || dirs & LIBSSH2_SESSION_BLOCK_INBOUND != 0 { jumpEvents |= Int16(POLLIN) }
            if dirs & LIBSSH2_SESSION_BLOCK_OUTBOUND != 0 { jumpEvents |= Int16(POLLOUT) }
            var fds = [pollfd(fd: pumpFD, events: localEvents, revents: 0), pollfd(fd: jump.fd, events: jumpEvents, revents: 0)]
            _ = poll(&fds, 2, waitMs)
        }
    }
}
