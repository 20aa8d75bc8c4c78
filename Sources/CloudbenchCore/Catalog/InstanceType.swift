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
    public var price: HourlyPrice?
    public var note: String?
    /// Runs at a burst rate on credits, then at a lower baseline (AWS t2/t3, Azure B-series,
    /// shared-CPU droplets): a short test measures the burst (`burstable: true` in the catalog).
    public var burstable: Bool = false

    public init(provider: String, name: String, vcpus: Int, memoryGiB: Decimal, documentedNetwork: String,
                generation: String? = nil, price: HourlyPrice? = nil, note: String? = nil) {
        self.provider = provider
        self.name = name
        self.vcpus = vcpus
        self.memoryGiB = memoryGiB
        self.documentedNetwork = documentedNetwork
        self.generation = generation
        self.price = price
        self.note = note
    }
}
