#if canImport(Glibc)
import Glibc
#endif

/// Parsing of IP addresses, host names and `host:port` as they appear in an inventory.
public enum NetworkAddress {
    public static func isIPv4(_ s: String) -> Bool {
        var a = in_addr()
        return inet_pton(AF_INET, s, &a) == 1
    }

    public static func isIPv6(_ s: String) -> Bool {
        var a = in6_addr()
        return inet_pton(AF_INET6, s, &a) == 1
    }

    public static func isIP(_ s: String) -> Bool { isIPv4(s) || isIPv6(s) }

    /// A DNS name: labels of letters, digits and hyphens, not starting or ending with a hyphen.
    public static func isHostName(_ s: String) -> Bool {
        guard !s.isEmpty, s.utf8.count <= 253 else { return false }
        // All-digit dotted names are malformed IPv4 addresses, not names.
        if s.allSatisfy({ $0.isNumber || $0 == "." }) { return false }
        return s.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            !label.isEmpty && label.utf8.count <= 63 && label.first != "-" && label.last != "-"
                && label.allSatisfy { ($0.isASCII && ($0.isLetter || $0.isNumber)) || $0 == "-" }
        }
    }

    public enum Parsed: Equatable, Sendable {
        case ok(host: String, port: Int?)
        case badHost(String)
        case badPort(String)
    }

    /// Splits `host`, `host:port`, `[v6]:port` or a bare IPv6 address.
    public static func parse(_ text: String) -> Parsed {
        var host = text, portText: String?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return .badHost(text) }
            host = String(text[text.index(after: text.startIndex)..<close])
            let after = text[text.index(after: close)...]
            if after.hasPrefix(":") { portText = String(after.dropFirst()) } else if !after.isEmpty { return .badHost(text) }
            guard isIPv6(host) else { return .badHost(host) }
        } else if text.filter({ $0 == ":" }).count == 1 {
            let parts = text.split(separator: ":", omittingEmptySubsequences: false)
            host = String(parts[0])
            portText = String(parts[1])
        }
        if let portText {
            guard let p = Int(portText), (1...65535).contains(p) else { return .badPort(portText) }
            guard isIP(host) || isHostName(host) else { return .badHost(host) }
            return .ok(host: host, port: p)
        }
        guard isIP(host) || isHostName(host) else { return .badHost(host) }
        return .ok(host: host, port: nil)
    }
}
