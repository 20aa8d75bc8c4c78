import CloudbenchPricing
import Foundation

/// DigitalOcean API v2 with a personal access token (`DIGITALOCEAN_TOKEN`): JSON calls and lists
/// followed through `links.pages.next`.
///
/// `CLOUDBENCH_DIGITALOCEAN_API_URL` replaces `https://api.digitalocean.com`. A `next` link is
/// always followed on that same origin, so the token is never sent anywhere else.
public final class DigitalOceanAPI {
    public let base: String
    let rest: RESTClient
    /// Pages followed for one list at most (200 items a page).
    public var maxPages = 100

    public init(token: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        let override = environment["CLOUDBENCH_DIGITALOCEAN_API_URL"].flatMap { $0.isEmpty ? nil : $0 }
        var b = override ?? "https://api.digitalocean.com"
        while b.hasSuffix("/") { b.removeLast() }
        base = b
        rest = try RESTClient(service: "DigitalOcean", userAgent: "cloudbench (+provision; libcurl/\(HTTPClient.curlVersion))",
                              plainHTTPToLoopback: override != nil, authorization: { "Bearer \(token)" })
    }

    public var calls: [String: Int] { rest.calls }

    func url(_ path: String) -> String { base + path }

    @discardableResult
    func call(_ action: String, _ method: HTTPRequest.Method, _ path: String, body: Any? = nil, accept: Set<Int> = []) throws -> RESTClient.Reply {
        try rest.call(action, method, url(path), body: body, accept: accept)
    }

    /// Every item under `key` of every page of `path` (which may carry a query already).
    func list(_ action: String, _ path: String, key: String) throws -> [[String: Any]] {
        var next: String? = url(path) + (path.contains("?") ? "&" : "?") + "per_page=200"
        var items: [[String: Any]] = []
        var pages = 0
        while let u = next {
            pages += 1
            guard pages <= maxPages else {
                throw ProvisionError("DigitalOcean \(action): more than \(maxPages) pages; stopped")
            }
            let reply = try rest.call(action, .get, u)
            items += reply.object[key] as? [[String: Any]] ?? []
            let link = ((reply.object["links"] as? [String: Any])?["pages"] as? [String: Any])?["next"] as? String
            next = link.flatMap { RedactedURL.rebase($0, onto: base) }
        }
        return items
    }
}
