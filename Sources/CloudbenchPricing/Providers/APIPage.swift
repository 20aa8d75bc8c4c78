import Foundation

/// Fetches one JSON page and parses it, naming the URL in any error.
enum APIPage {
    static func get(_ client: HTTPClient, _ request: HTTPRequest, api: String) throws -> JSONNode {
        let response = try client.send(request)
        return try parse(response.body, url: request.url, api: api)
    }

    static func parse(_ body: [UInt8], url: String, api: String) throws -> JSONNode {
        do {
            let node = try JSONNode.parse(body)
            guard node.object != nil else {
                throw PricingError("is not a JSON object")
            }
            return node
        } catch let e as PricingError {
            throw PricingError("\(RedactedURL.describe(url)) did not answer like the \(api): \(e.message); the catalog is unchanged")
        }
    }

    /// Guards against a server whose next-page links go round in circles.
    static let maxPages = 200
}
