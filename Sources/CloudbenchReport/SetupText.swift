import CloudbenchCore

/// A test's knobs as a reader sees them: `8 streams, client → server, 64 KiB messages`.
enum SetupText {
    static func text(_ s: TestSetup, test: String, separator: String = ", ") -> String {
        var parts: [String] = []
        if let n = s.streams { parts.append(n == 1 ? "1 stream" : "\(n) streams") }
        if let d = s.direction { parts.append(direction(d)) }
        if let m = s.messageSize {
            parts.append(test == "tcp_lat" || test == "udp_lat" ? "\(bytes(m)) ping-pong"
                         : test == "udp_pps" ? "\(bytes(m)) datagrams" : "\(bytes(m)) messages")
        }
        if let r = s.udpRate {
            parts.append(test == "udp_pps" ? "offered \(NumberFormat.sig3(r)) datagrams/s" : "offered \(NumberFormat.sig3(r / 1e6)) MB/s")
        }
        if s.udpRateSearch { parts.append("rate searched") }
        if let h = s.httpSize { parts.append("\(bytes(h)) objects") }
        return parts.isEmpty ? "as recorded" : parts.joined(separator: separator)
    }

    static func direction(_ d: String) -> String {
        switch d {
        case "client_to_server": return "client → server"
        case "server_to_client": return "server → client"
        case "bidirectional": return "both ways"
        default: return d
        }
    }

    /// `64 KiB`, `200 kB`, `1 byte`, `1400 bytes`.
    static func bytes(_ n: Int) -> String {
        if n == 1 { return "1-byte" }
        if n >= 1 << 20, n % (1 << 20) == 0 { return "\(n >> 20) MiB" }
        if n >= 1024, n % 1024 == 0 { return "\(n >> 10) KiB" }
        if n >= 1_000_000, n % 1_000_000 == 0 { return "\(n / 1_000_000) MB" }
        if n >= 1000, n % 1000 == 0 { return "\(n / 1000) kB" }
        return "\(n)-byte"
    }
}
