import CloudbenchCore
import Foundation

/// DigitalOcean `GET /v2/sizes` with a bearer token from `DIGITALOCEAN_TOKEN`, following `links.pages.next`.
///
/// DigitalOcean bills `price_monthly / 672` per hour (a month is capped at 672 hours). The API's own
/// `price_hourly` is stored when present; otherwise the hourly price is worked out by that rule.
public struct DigitalOceanSizes {
    public let client: HTTPClient
    public let base: String
    let token: String
    public static let path = "/v2/sizes"
    static let api = "DigitalOcean API"
    static let hoursPerMonth: Decimal = 672

    public init(client: HTTPClient, base: String, token: String) {
        self.client = client
        self.base = base
        self.token = token
    }

    /// The token from the environment, or a clear error saying how to get one.
    public static func token(from env: [String: String] = ProcessInfo.processInfo.environment) throws -> String {
        guard let t = env["DIGITALOCEAN_TOKEN"]?.trimmingCharacters(in: .whitespacesAndNewlines), !t.isEmpty else {
            throw PricingError("DIGITALOCEAN_TOKEN is not set; create a read-only API token at cloud.digitalocean.com/account/api and export it", input: true)
        }
        return t
    }

    /// The hourly price of one size: `price_hourly`, else `price_monthly / 672` rounded to 6 places.
    public static func hourly(_ size: JSONNode) -> Decimal? {
        if let h = size["price_hourly"]?.decimal, h > 0 { return h }
        guard let m = size["price_monthly"]?.decimal, m >= 0 else { return nil }
        // Six decimals keep a $4/month price exact to a millionth of a dollar.
        return Money.rounded(m / hoursPerMonth, places: 6)
    }

    public func fetch(_ request: FetchRequest) throws -> FetchResult {
        guard request.currency == "USD" else {
            throw PricingError("DigitalOcean prices only in USD, not \(request.currency); leave out --currency", input: true)
        }
        let first = "\(base)\(Self.path)?per_page=200"
        var sizes: [String: JSONNode] = [:]
        var next: String? = first
        var seen: Set<String> = []
        while let pageURL = next {
            guard seen.insert(pageURL).inserted, seen.count <= APIPage.maxPages else {
                throw PricingError("\(RedactedURL.describe(pageURL)) sends the pages of the \(Self.api) round in a loop; the catalog is unchanged")
            }
            let req = HTTPRequest(url: pageURL, headers: [("Authorization", "Bearer \(token)"), ("Accept", "application/json")])
            let page: JSONNode
            do {
                page = try APIPage.get(client, req, api: Self.api)
            } catch let e as PricingError where e.message.contains("HTTP 401") {
                throw PricingError("the \(Self.api) refused DIGITALOCEAN_TOKEN (HTTP 401); check that the token is valid and has read scope")
            }
            guard let list = page["sizes"]?.array else {
                throw PricingError("\(RedactedURL.describe(pageURL)) did not answer like the \(Self.api): no 'sizes' list; the catalog is unchanged")
            }
            for size in list {
                guard let slug = size["slug"]?.string else {
                    throw PricingError("\(RedactedURL.describe(pageURL)) lists a size without a 'slug'; the catalog is unchanged")
                }
                sizes[slug] = size
            }
            if let link = page["links"]?["pages"]?["next"]?.string, !link.isEmpty {
                next = try PriceEndpoints.follow(link, base: base)
            } else {
                next = nil
            }
        }
        var prices: [FetchedPrice] = []
        var missing: [(String, String)] = []
        for type in request.types {
            guard let size = sizes[type] else {
                missing.append((type, "the DigitalOcean API lists no size '\(type)' (retired sizes are not listed)"))
                continue
            }
            if request.region != "any" {
                let regions = size["regions"]?.array?.compactMap(\.string) ?? []
                guard regions.contains(request.region) else {
                    missing.append((type, "size '\(type)' is not offered in \(request.region)"))
                    continue
                }
            }
            guard let hourly = Self.hourly(size) else {
                throw PricingError("\(RedactedURL.describe(first)) gives size '\(type)' no usable price_hourly or price_monthly; the catalog is unchanged")
            }
            prices.append(FetchedPrice(type: type, amount: hourly, currency: "USD", region: request.region,
                                       source: RedactedURL.describe(first), fetchedAt: request.fetchedAt))
        }
        return FetchResult(prices: prices, missing: missing, source: base + Self.path)
    }
}

