import Foundation

/// AWS EC2 Linux on-demand prices: the Price List Query API when AWS credentials are present (signed
/// by libcurl with SigV4), else the public per-region offer file, streamed.
public struct AWSPrices {
    public let client: HTTPClient
    /// Scheme and host of the offer files, e.g. `https://pricing.us-east-1.amazonaws.com`.
    public let offerBase: String
    /// Scheme and host of the Price List Query API, e.g. `https://api.pricing.us-east-1.amazonaws.com`.
    public let queryBase: String
    public let credentials: AWSCredentials?
    static let queryAPI = "AWS Price List Query API"
    static let offerAPI = "AWS EC2 offer file"

    public init(client: HTTPClient, offerBase: String, queryBase: String, credentials: AWSCredentials?) {
        self.client = client
        self.offerBase = offerBase
        self.queryBase = queryBase
        self.credentials = credentials
    }

    public static func offerPath(region: String) -> String {
        "/offers/v1.0/aws/AmazonEC2/current/\(region)/index.json"
    }

    public func fetch(_ request: FetchRequest) throws -> FetchResult {
        guard request.region.range(of: "^[a-z]{2}(-[a-z]+)+-[0-9]+$", options: .regularExpression) != nil else {
            throw PricingError("'\(request.region)' is not an AWS region code such as us-east-1", input: true)
        }
        guard request.currency == "USD" else {
            throw PricingError("AWS prices EC2 in USD only, not \(request.currency); leave out --currency", input: true)
        }
        if let credentials { return try fetchFromQueryAPI(request, credentials: credentials) }
        return try fetchOfferFile(request)
    }

    // MARK: Offer file

    func fetchOfferFile(_ request: FetchRequest) throws -> FetchResult {
        let url = offerBase + Self.offerPath(region: request.region)
        var parser: AWSOfferFileParser?
        do {
            try client.stream(HTTPRequest(url: url)) {
                let p = AWSOfferFileParser(wanted: Set(request.types))
                parser = p
                return p
            }
        } catch let e as PricingError where e.message.hasPrefix("malformed JSON") {
            throw PricingError("\(RedactedURL.describe(url)) did not answer like the \(Self.offerAPI): \(e.message); the catalog is unchanged")
        } catch let e as PricingError where e.message.contains("HTTP 404") || e.message.contains("HTTP 403") {
            throw PricingError("there is no EC2 offer file for region '\(request.region)' at \(RedactedURL.describe(url)); check the region code")
        }
        guard let parser, parser.productsSeen || !parser.prices.isEmpty else {
            throw PricingError("\(RedactedURL.describe(url)) did not answer like the \(Self.offerAPI): it has no 'products'; the catalog is unchanged")
        }
        let (found, others) = parser.result(currency: request.currency)
        if found.isEmpty, !others.isEmpty {
            throw PricingError("\(RedactedURL.describe(url)) prices in \(others.sorted().joined(separator: ", ")), not the \(request.currency) asked for; the catalog is unchanged")
        }
        return result(found, request: request, source: RedactedURL.describe(url), reason: "the offer file")
    }

    func result(_ found: [String: Decimal], request: FetchRequest, source: String, reason: String) -> FetchResult {
        var prices: [FetchedPrice] = []
        var missing: [(String, String)] = []
        for type in request.types {
            if let amount = found[type] {
                prices.append(FetchedPrice(type: type, amount: amount, currency: request.currency, region: request.region,
                                           source: source, fetchedAt: request.fetchedAt))
            } else {
                missing.append((type, "\(reason) has no Linux shared-tenancy on-demand price for \(type) in \(request.region)"))
            }
        }
        return FetchResult(prices: prices, missing: missing, source: source)
    }

    // MARK: Price List Query API

    /// The GetProducts request body for one type.
    static func getProductsBody(type: String, region: String, nextToken: String?) -> [UInt8] {
        let filters: [(String, String)] = [("instanceType", type), ("regionCode", region), ("operatingSystem", "Linux"),
                                           ("tenancy", "Shared"), ("preInstalledSw", "NA"), ("capacitystatus", "Used")]
        var object: [String: Any] = [
            "ServiceCode": "AmazonEC2",
            "FormatVersion": "aws_v1",
            "MaxResults": 100,
            "Filters": filters.map { ["Type": "TERM_MATCH", "Field": $0.0, "Value": $0.1] },
        ]
        if let nextToken { object["NextToken"] = nextToken }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return Array(data)
    }

    func fetchFromQueryAPI(_ request: FetchRequest, credentials: AWSCredentials) throws -> FetchResult {
        let url = queryBase + "/"
        var found: [String: Decimal] = [:]
        var otherCurrencies: Set<String> = []
        for type in request.types {
            var token: String?
            var pages = 0
            repeat {
                pages += 1
                guard pages <= APIPage.maxPages else {
                    throw PricingError("\(RedactedURL.describe(url)) keeps returning NextToken for \(type); the catalog is unchanged")
                }
                let req = HTTPRequest(url: url, method: .post,
                                      headers: [("Content-Type", "application/x-amz-json-1.1"),
                                                ("X-Amz-Target", "AWSPriceListService.GetProducts"),
                                                ("Accept", "application/json")],
                                      body: Self.getProductsBody(type: type, region: request.region, nextToken: token),
                                      awsSigning: AWSSigning(provider: "aws:amz:us-east-1:pricing", credentials: credentials))
                let page: JSONNode
                do {
                    page = try APIPage.get(client, req, api: Self.queryAPI)
                } catch let e as PricingError where e.message.contains("HTTP 400") || e.message.contains("HTTP 403") {
                    throw PricingError("the \(Self.queryAPI) refused the request (\(e.message)); check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and the pricing:GetProducts permission, or unset them to use the public offer file")
                }
                guard let list = page["PriceList"]?.array else {
                    throw PricingError("\(RedactedURL.describe(url)) did not answer like the \(Self.queryAPI): no 'PriceList'; the catalog is unchanged")
                }
                for entry in list {
                    // Each entry is a JSON document in a string (format aws_v1); tolerate an inline object too.
                    let doc: JSONNode
                    if let text = entry.string {
                        doc = try APIPage.parse(Array(text.utf8), url: url, api: Self.queryAPI)
                    } else {
                        doc = entry
                    }
                    guard let product = doc["product"], let attrs = product["attributes"]?.object else { continue }
                    let strings = attrs.compactMapValues(\.string)
                    guard let matchedType = AWSProductFilter.match(strings, productFamily: product["productFamily"]?.string,
                                                                   wanted: [type]),
                          found[matchedType] == nil else { continue }
                    for term in (doc["terms"]?["OnDemand"]?.object ?? [:]).sorted(by: { $0.key < $1.key }).map(\.value) {
                        for dim in (term["priceDimensions"]?.object ?? [:]).sorted(by: { $0.key < $1.key }).map(\.value)
                        where dim["unit"]?.string == "Hrs" {
                            let perUnit = dim["pricePerUnit"]?.object ?? [:]
                            if let amount = perUnit[request.currency]?.decimal {
                                if found[matchedType] == nil { found[matchedType] = amount }
                            } else {
                                otherCurrencies.formUnion(perUnit.keys)
                            }
                        }
                    }
                }
                token = page["NextToken"]?.string.flatMap { $0.isEmpty ? nil : $0 }
            } while token != nil
        }
        if found.isEmpty, !otherCurrencies.isEmpty {
            throw PricingError("\(RedactedURL.describe(url)) prices in \(otherCurrencies.sorted().joined(separator: ", ")), not the \(request.currency) asked for; the catalog is unchanged")
        }
        return result(found, request: request, source: RedactedURL.describe(url) + " (GetProducts)", reason: "the Price List Query API")
    }
}
