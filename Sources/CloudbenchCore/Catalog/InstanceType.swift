import Foundation

/// One instance type of a provider, as its catalog describes it.
public struct InstanceType: Hashable, Sendable {
    public var provider: String
    public var name: String
    public var vcpus: Int
    public var memoryGiB: Decimal
    /// The provider's own words for network performance, e.g. "Up to 10 Gigabit".
    public var documentedNetwork: String
    /// e.g. "2015" or "current"; for grouping in docs.
    public var generation: String?
    /// Hourly prices, one per region (`region` set on each); `any` prices every region alike.
    public var prices: [HourlyPrice]
    public var note: String?
    /// Runs at a burst rate on credits, then at a lower baseline (AWS t2/t3, Azure B-series,
    /// shared-CPU droplets): a short test measures the burst (`burstable: true` in the catalog).
    public var burstable: Bool = false

    public init(provider: String, name: String, vcpus: Int, memoryGiB: Decimal, documentedNetwork: String,
                generation: String? = nil, prices: [HourlyPrice] = [], note: String? = nil) {
        self.provider = provider
        self.name = name
        self.vcpus = vcpus
        self.memoryGiB = memoryGiB
        self.documentedNetwork = documentedNetwork
        self.generation = generation
        self.prices = prices
        self.note = note
    }

    /// The region that prices every region alike (DigitalOcean's sizes cost the same everywhere).
    public static let anyRegion = "any"

    /// The price in `region`: that region's own, else an `any` price; nil when neither exists.
    /// A record without a region (nil) is priced only by an `any` price: a regional price is
    /// never borrowed for another region.
    public func price(in region: String?) -> HourlyPrice? {
        if let region, let p = prices.first(where: { $0.region == region }) { return p }
        return prices.first { $0.region == Self.anyRegion }
    }

    /// The regions this type has a price for, sorted.
    public var pricedRegions: [String] { Array(Set(prices.compactMap(\.region))).sorted() }

    /// Adds `price`, replacing the one of the same region.
    public mutating func setPrice(_ price: HourlyPrice) {
        prices.removeAll { $0.region == price.region }
        prices.append(price)
        prices.sort { ($0.region ?? "") < ($1.region ?? "") }
    }
}
