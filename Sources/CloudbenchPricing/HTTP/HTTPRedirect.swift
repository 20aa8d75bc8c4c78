import Foundation

/// Where the client may go: https only, and plain http to a loopback address only when the
/// client was built for it (`HTTPClient.Configuration.plainHTTPToLoopback`, which only code sets:
/// the tests and the environment's URL overrides, never a catalog file). And where a redirect
/// leads: the client follows redirects itself, at most `maxRedirects`, so that each hop is
/// checked the same way and credentials never follow a redirect to another origin.
public enum HTTPRedirect {
    public static let maxRedirects = 5

    /// Request headers that carry credentials, dropped when a redirect changes the origin.
    static func isCredential(_ name: String) -> Bool {
        let n = name.lowercased()
        return n == "authorization" || n == "proxy-authorization" || n == "cookie" || n.hasPrefix("x-amz-")
            || n.contains("token") || n.contains("auth") || n.contains("key") || n.contains("secret")
    }

    /// Why the client refuses to fetch `url`, or nil when it may.
    public static func refusal(_ url: String, plainHTTPToLoopback: Bool) -> String? {
        guard let p = URLComponents(string: url), let scheme = p.scheme?.lowercased(), let host = p.host, !host.isEmpty else {
            return "\(RedactedURL.describe(url)) is not an absolute URL"
        }
        switch scheme {
        case "https": return nil
        case "http" where plainHTTPToLoopback && isLoopback(host): return nil
        case "http": return "\(RedactedURL.describe(url)) is plain http; cloudbench fetches prices over https only"
        default: return "\(RedactedURL.describe(url)) is not an https URL"
        }
    }

    static func isLoopback(_ host: String) -> Bool {
        let h = host.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        return h == "localhost" || h == "::1" || h.hasPrefix("127.")
    }

    /// The request a `status` answer with `location` leads to, from `request`: the URL resolved
    /// against the current one; GET without a body after 301, 302 and 303 to a POST (as browsers
    /// and libcurl do); and, when the origin changes, no credential headers and no AWS signing.
    /// Throws when the target is refused.
    public static func follow(_ request: HTTPRequest, status: Int, location: String, plainHTTPToLoopback: Bool) throws -> HTTPRequest {
        guard let base = URL(string: request.url), let target = URL(string: location, relativeTo: base)?.absoluteURL else {
            throw PricingError("\(RedactedURL.describe(request.url)) redirected to '\(RedactedURL.describe(location))', which is not a URL")
        }
        let next = target.absoluteString
        if let why = refusal(next, plainHTTPToLoopback: plainHTTPToLoopback) {
            throw PricingError("\(RedactedURL.describe(request.url)) redirected to \(RedactedURL.describe(next)), which is refused: \(why)")
        }
        var out = request
        out.url = next
        if [301, 302, 303].contains(status) && request.method == .post {
            out.method = .get
            out.body = nil
        }
        if RedactedURL.origin(next) != RedactedURL.origin(request.url) {
            out.headers = request.headers.filter { !isCredential($0.0) }
            out.awsSigning = nil
        }
        return out
    }
}
