import Foundation

/// Azure Retail Prices API (no authentication): the Linux pay-as-you-go price of each VM size.
///
/// One query per type, filtered on service, region, SKU and price type, following `NextPageLink`.
/// Windows, Spot, Low Priority, reservation and DevTest meters are dropped.
public struct AzureRetailPrices {
    public let client: HTTPClient
    /// Scheme and host, e.g. `https://prices.azure.com`.
    public let base: String
    public static let path = "/api/retail/prices"
    static let api = "Azure Retail Prices API"

    public init(client: HTTPClient, base: String) {
        self.client = client
        self.base = base
    }

    /// Catalog type `D2s_v5` is ARM SKU `Standard_D2s_v5`; the 2015 sizes too (`A2` → `Standard_A2`).
    public static func armSkuName(forType type: String) -> String { "Standard_\(type)" }

    /// The catalog type of an ARM SKU: `Standard_D2s_v5` → `D2s_v5`; others (`Basic_A2`) keep their name.
    public static func type(forArmSkuName sku: String) -> String {
        sku.hasPrefix("Standard_") ? String(sku.dropFirst("Standard_".count)) : sku
    }

    /// The first page's URL for one type.
    public func url(type: String, region: String, currency: String) -> String {
        let filter = "serviceName eq 'Virtual Machines' and armRegionName eq '\(region)' and armSkuName eq '\(Self.armSkuName(forType: type))' and priceType eq 'Consumption'"
        return "\(base)\(Self.path)?currencyCode=\(Self.encode("'\(currency)'"))&$filter=\(Self.encode(filter))"
    }

    static func encode(_ s: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s
    }

    public func fetch(_ request: FetchRequest) throws -> FetchResult {
        var prices: [FetchedPrice] = []
        var missing: [(String, String)] = []
        for type in request.types {
            let first = url(type: type, region: request.region, currency: request.currency)
            var items: [JSONNode] = []
            var next: String? = first
            var seen: Set<String> = []
            while let pageURL = next {
                guard seen.insert(pageURL).inserted, seen.count <= APIPage.maxPages else {
                    throw PricingError("\(RedactedURL.describe(pageURL)) sends the pages of the \(Self.api) round in a loop; the catalog is unchanged")
                }
                let page = try APIPage.get(client, HTTPRequest(url: pageURL), api: Self.api)
                guard let pageItems = page["Items"]?.array else {
                    throw PricingError("\(RedactedURL.describe(pageURL)) did not answer like the \(Self.api): no 'Items' list; the catalog is unchanged")
                }
                if let billing = page["BillingCurrency"]?.string, billing != request.currency {
                    throw Self.wrongCurrency(pageURL, asked: request.currency, got: billing)
                }
                for item in pageItems {
                    if let c = item["currencyCode"]?.string, c != request.currency {
                        throw Self.wrongCurrency(pageURL, asked: request.currency, got: c)
                    }
                }
                items += pageItems
                if let link = page["NextPageLink"]?.string, !link.isEmpty {
                    next = try PriceEndpoints.follow(link, base: base)
                } else {
                    next = nil
                }
            }
            if let (amount, _) = Self.pick(items, type: type, region: request.region) {
                prices.append(FetchedPrice(type: type, amount: amount, currency: request.currency, region: request.region,
                                           source: RedactedURL.describe(first), fetchedAt: request.fetchedAt))
            } else {
                missing.append((type, "no Linux pay-as-you-go price for \(Self.armSkuName(forType: type)) in \(request.region)"))
            }
        }
        return FetchResult(prices: prices, missing: missing, source: base + Self.path)
    }

    static func wrongCurrency(_ url: String, asked: String, got: String) -> PricingError {
        PricingError("\(RedactedURL.describe(url)) answered in \(got), not the \(asked) asked for; the catalog is unchanged (is the mirror serving the right currency?)")
    }

    /// True for the Linux pay-as-you-go hourly meter of `type` in `region`.
    static func isLinuxPayAsYouGo(_ item: JSONNode, type: String, region: String) -> Bool {
        func s(_ k: String) -> String { item[k]?.string ?? "" }
        let sku = s("armSkuName")
        guard sku.caseInsensitiveCompare(armSkuName(forType: type)) == .orderedSame,
              s("armRegionName").caseInsensitiveCompare(region) == .orderedSame,
              s("type") == "Consumption",  // not Reservation, DevTestConsumption
              s("serviceName").isEmpty || s("serviceName") == "Virtual Machines",
              item["reservationTerm"] == nil || item["reservationTerm"]?.isNull == true,
              s("unitOfMeasure") == "1 Hour" else { return false }
        if s("productName").contains("Windows") { return false }
        for field in ["skuName", "meterName"] {
            let v = s(field)
            if v.contains("Spot") || v.contains("Low Priority") { return false }
        }
        return true
    }

    /// The price to keep: a primary-region meter first, then the latest effective date.
    static func pick(_ items: [JSONNode], type: String, region: String) -> (Decimal, JSONNode)? {
        let candidates = items.filter { isLinuxPayAsYouGo($0, type: type, region: region) }
            .compactMap { item -> (Decimal, JSONNode)? in
                guard let p = item["retailPrice"]?.decimal ?? item["unitPrice"]?.decimal, p >= 0 else { return nil }
                return (p, item)
            }
        return candidates.max { a, b in
            let pa = a.1["isPrimaryMeterRegion"]?.bool ?? true, pb = b.1["isPrimaryMeterRegion"]?.bool ?? true
            if pa != pb { return !pa }
            return (a.1["effectiveStartDate"]?.string ?? "") < (b.1["effectiveStartDate"]?.string ?? "")
        }
    }
}
