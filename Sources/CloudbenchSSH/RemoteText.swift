import Foundation

/// Text from a remote host, made safe to keep and to print: capped per command (the tail kept,
/// the cut said) and stripped of control characters and terminal escape sequences.
///
/// A host can print anything: megabytes of output would fill memory and records, and an escape
/// sequence printed on the user's terminal can move the cursor, rewrite earlier lines or set the
/// window title. Output enters cloudbench through `SSHSession.exec`, which uses `Tail` and
/// `sanitised`, so every message, record and table built from it is clean.
public enum RemoteText {
    /// Bytes kept per stream of one command (the agent's largest JSON is well under 1 MiB).
    public static let limit = 4 << 20

    /// Collects a stream, keeping its last `limit` bytes and counting the rest.
    public struct Tail: Sendable {
        public let limit: Int
        private var buffer = Data()
        /// Bytes dropped from the front.
        public private(set) var cut = 0

        public init(limit: Int = RemoteText.limit) { self.limit = max(1, limit) }

        public mutating func append(_ data: Data) {
            buffer.append(data)
            // Trim only past twice the limit: each byte is moved at most once on average.
            if buffer.count > 2 * limit { trim() }
        }

        private mutating func trim() {
            let excess = buffer.count - limit
            guard excess > 0 else { return }
            cut += excess
            buffer = Data(buffer.suffix(limit))
        }

        /// The kept text, sanitised; a cut is said on the first line.
        public var text: String {
            var copy = self
            copy.trim()
            let body = RemoteText.sanitised(String(decoding: copy.buffer, as: UTF8.self))
            guard copy.cut > 0 else { return body }
            return "[cloudbench: the first \(copy.cut) bytes of this output were cut; the last \(copy.limit) follow]\n"
                + body.drop { $0 == "\u{FFFD}" }
        }
    }

    /// `text` without terminal escape sequences (CSI, OSC, DCS and the like), control characters
    /// other than newline and tab (also carriage return, which can overwrite a printed line), and
    /// Unicode direction overrides, which can make text read differently than it is.
    public static func sanitised(_ text: String) -> String {
        let scalars = Array(text.unicodeScalars)
        var out = String.UnicodeScalarView()
        var i = 0
        func skipString() {
            // OSC, DCS, APC, PM, SOS: up to BEL or ST (ESC \ or 0x9C).
            while i < scalars.count {
                let v = scalars[i].value
                if v == 0x07 || v == 0x9C { i += 1; return }
                if v == 0x1B, i + 1 < scalars.count, scalars[i + 1] == "\\" { i += 2; return }
                i += 1
            }
        }
        func skipCSI() {
            // Parameters and intermediates, then one final byte 0x40–0x7E.
            while i < scalars.count {
                let v = scalars[i].value
                i += 1
                if (0x40...0x7E).contains(v) || v < 0x20 { return }
            }
        }
        while i < scalars.count {
            let s = scalars[i]
            let v = s.value
            i += 1
            switch v {
            case 0x0A, 0x09:
                out.append(s)
            case 0x1B:
                guard i < scalars.count else { break }
                let next = scalars[i].value
                i += 1
                switch next {
                case 0x5B: skipCSI()                                  // ESC [
                case 0x5D, 0x50, 0x5F, 0x5E, 0x58: skipString()       // ESC ] P _ ^ X
                case 0x20...0x2F: if i < scalars.count { i += 1 }     // ESC with an intermediate, e.g. ESC ( B
                default: break                                        // ESC and one character
                }
            case 0x9B:
                skipCSI()
            case 0x90, 0x9D, 0x9E, 0x9F, 0x98:
                skipString()
            case 0..<0x20, 0x7F, 0x80...0x9F:
                break
            case 0x202A...0x202E, 0x2066...0x2069, 0x200E, 0x200F, 0x061C:
                break
            default:
                out.append(s)
            }
        }
        return String(out)
    }
}
