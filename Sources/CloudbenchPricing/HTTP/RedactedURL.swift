import Foundation

/// A URL fit for messages and catalogs: no user info, and no values of query parameters that look secret.
public enum RedactedURL {
    static let secretWords = ["token", "key", "secret", "sig", "password", "credential", "auth"]

    public static func describe(_ url: String) -> String {
        guard var parts = URLComponents(string: url) else { return url.split(separator: "?").first.map(String.init) ?? "" }
        parts.user = nil
        parts.password = nil
        if let items = parts.percentEncodedQueryItems {
            parts.percentEncodedQueryItems = items.map { item in
                let name = item.name.lowercased()
                return secretWords.contains(where: { name.contains($0) }) ? URLQueryItem(name: item.name, value: "REDACTED") : item
            }
        }
        return parts.string ?? url
    }

    /// `scheme://host[:port]` of `url`, lower-cased; nil when it has none.
    public static func origin(_ url: String) -> String? {
        guard let p = URLComponents(string: url), let scheme = p.scheme, let host = p.host else { return nil }
        return "\(scheme.lowercased())://\(host.lowercased())" + (p.port.map { ":\($0)" } ?? "")
    }

    /// `url` with its scheme and host replaced by `base`'s (path and query kept): a paging link that names
    /// the real API host is followed on the mirror the user chose instead.
    public static func rebase(_ url: String, onto base: String) -> String? {
        guard let p = URLComponents(string: url), p.host != nil, let b = URLComponents(string: base) else { return nil }
        var out = p
        out.scheme = b.scheme
        out.host = b.host
        out.port = b.port
        return out.string
    }
}
