#if canImport(Glibc)
import Glibc
#endif
import Syscall

/// What the user-space tunnel publishes about itself in its stats file (`tunnel --stats FILE`):
/// its pid and its counts, one line, rewritten (whole, by rename) while they change, so that the
/// agents measuring across it can read them at the start and end of a test without a signal or
/// a round trip (`TunnelCounters`).
///
///     TUNNEL pid=4242 packets_out=1200 packets_in=1180 dropped_wrong_source=0 dropped_bad_tag=3 dropped_replay=0
public struct TunnelStats: Sendable, Equatable {
    public var pid: Int32
    public var packetsOut = 0, packetsIn = 0
    /// Datagrams dropped: from an address other than the peer's, failing their tag (forged,
    /// altered, too short or under another key), or replayed.
    public var droppedWrongSource = 0, droppedBadTag = 0, droppedReplay = 0

    /// How often, at most, the tunnel rewrites the file while its counts change: the most a
    /// reading can lag behind the tunnel.
    public static let period = 0.1

    public init(pid: Int32, packetsOut: Int = 0, packetsIn: Int = 0, droppedWrongSource: Int = 0, droppedBadTag: Int = 0,
                droppedReplay: Int = 0) {
        self.pid = pid
        self.packetsOut = packetsOut
        self.packetsIn = packetsIn
        self.droppedWrongSource = droppedWrongSource
        self.droppedBadTag = droppedBadTag
        self.droppedReplay = droppedReplay
    }

    /// A running tunnel's counts now.
    public init(_ tunnel: UDPTunnel, pid: Int32 = getpid()) {
        self.init(pid: pid, packetsOut: tunnel.packetsOut, packetsIn: tunnel.packetsIn, droppedWrongSource: tunnel.droppedForeign,
                  droppedBadTag: tunnel.droppedUnauthenticated, droppedReplay: tunnel.droppedReplayed)
    }

    /// The counts by name, as the file, the `HOST` line and the record spell them.
    var counts: [(String, Int)] {
        [("packets_out", packetsOut), ("packets_in", packetsIn), ("dropped_wrong_source", droppedWrongSource),
         ("dropped_bad_tag", droppedBadTag), ("dropped_replay", droppedReplay)]
    }

    public var line: String { ControlLine.encode("TUNNEL", [("pid", String(pid))] + counts.map { ($0.0, String($0.1)) }) }

    /// Reads `line`; nil unless it is a `TUNNEL` line with a pid and every count in range.
    public init?(line: String) {
        let words = line.split(separator: " ", omittingEmptySubsequences: true).prefix(16)
        guard words.first == "TUNNEL" else { return nil }
        let f = ControlLine.fields(words.dropFirst())
        guard let p = f["pid"].flatMap({ Int32($0) }), p > 1 else { return nil }
        var s = TunnelStats(pid: p)
        func count(_ k: String) -> Int? { ControlLine.count(f[k]) }
        guard let o = count("packets_out"), let i = count("packets_in"), let ws = count("dropped_wrong_source"),
              let bt = count("dropped_bad_tag"), let rp = count("dropped_replay") else { return nil }
        (s.packetsOut, s.packetsIn, s.droppedWrongSource, s.droppedBadTag, s.droppedReplay) = (o, i, ws, bt, rp)
        self = s
    }

    /// Replaces `path` with this line: written to a temporary file beside it, then renamed over
    /// it, so a reader sees the old line or the new one, never half of one.
    public func write(to path: String) throws(SystemError) {
        let temporary = path + ".new"
        // Not through a link planted there: the tunnel runs as root in the login user's folder.
        let fd = try Posix.open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, mode: 0o644)
        let bytes = Array(line.utf8)
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { b in Result { () throws(SystemError) in try Posix.write(fd, b.baseAddress! + done, b.count - done) } }
            guard case .success(let written) = n, let k = written.value, k > 0 else {
                Posix.close(fd)
                if case .failure(let e) = n { throw e }
                throw SystemError(call: "write(\(temporary))", errno: EIO)
            }
            done += k
        }
        Posix.close(fd)
        guard rename(temporary, path) == 0 else { throw SystemError(call: "rename(\(temporary))", errno: errno) }
    }

    /// Why a tunnel's counts could not be read. A short code on the control line, a sentence in the record.
    public enum Absent: String, Sendable, Error {
        /// No stats file: no tunnel runs on this host.
        case notRunning = "no_tunnel"
        case unreadable = "unreadable_tunnel_stats"
        case malformed = "malformed_tunnel_stats"
        /// The file names a process that is gone or is not a tunnel (it was killed).
        case gone = "tunnel_gone"
        /// Another tunnel (another pid) at the end of the window than at its start.
        case restarted = "tunnel_restarted"
        /// Counts went backwards, or the peer sent nonsense.
        case inconsistent = "inconsistent_tunnel_stats"
        /// The peer agent sent no tunnel counts.
        case notSent = "tunnel_not_sent"

        public var sentence: String {
            switch self {
            case .notRunning: return "no user-space tunnel ran on this host (no stats file)"
            case .unreadable: return "the tunnel's stats file could not be read"
            case .malformed: return "the tunnel's stats file is not in the expected shape"
            case .gone: return "the tunnel named in its stats file no longer runs"
            case .restarted: return "the tunnel was restarted during the window"
            case .inconsistent: return "the tunnel's counts went backwards during the window"
            case .notSent: return "the agent on this host sent no tunnel counts"
            }
        }
    }

    /// Reads the stats file at `path` (at most 4 KiB).
    public static func read(path: String) -> Result<TunnelStats, Absent> {
        let bytes: [UInt8]
        do { bytes = try Posix.readFile(path, limit: 4096) } catch {
            return .failure(error.errno == ENOENT ? .notRunning : .unreadable)
        }
        guard let s = TunnelStats(line: String(decoding: bytes, as: UTF8.self).trimmingNewline) else { return .failure(.malformed) }
        return .success(s)
    }
}

extension String {
    var trimmingNewline: String { hasSuffix("\n") ? String(dropLast()) : self }
}
