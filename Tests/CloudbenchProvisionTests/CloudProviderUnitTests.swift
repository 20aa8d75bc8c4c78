import CloudbenchCore
@testable import CloudbenchProvision
import Foundation
import XCTest

/// The DigitalOcean and Azure pieces that need no server: estimates in their billing units, fleet
/// rules, names, and the waits a 429 asks for.
final class CloudProviderUnitTests: XCTestCase {
    func fleet(_ yaml: String) throws -> Fleet {
        try FleetLoader(catalog: try Repo.catalog()).parse(YAMLDocument(file: "f.yaml", text: yaml))
    }

    func prices(_ provider: String) throws -> ProvisionPrices {
        try ProvisionPrices.load(directory: Repo.providers, provider: provider, currencies: try Repo.catalog().exchangeRates.currencies)
    }

    func testDigitalOceanBillsStartedHoursUpToTheMonthlyPrice() throws {
        let f = try fleet("""
            version: 1
            name: d
            run: { tests: [tcp_bw], duration: 10s, repetitions: 1 }
            pairs: [{ name: s, provider: digitalocean, type: s-2vcpu-2gb, region: ams3, count: 2 }]
            """)
        var p = try prices("digitalocean")
        XCTAssertEqual(p.billingUnit, 3600)
        XCTAssertEqual(p.billingMonthlyCap, 672 * 3600)
        let e = try CostEstimate(fleet: f, catalog: try Repo.catalog(), prices: p)
        XCTAssertEqual(e.billedSeconds, 3600, "a short run is one started hour")
        // 4 droplets × 1 h × 0.02679; IPv4 and disk are in the droplet's price.
        XCTAssertEqual(e.total.amountText, "0.1072")
        XCTAssertEqual(e.total.currency, "USD")
        // A run longer than the cap is billed the cap (the monthly price), not more.
        p.overheadSeconds = 3 * 3600
        p.billingMonthlyCap = 2 * 3600
        XCTAssertEqual(try CostEstimate(fleet: f, catalog: try Repo.catalog(), prices: p).billedSeconds, 2 * 3600)
    }

    func testAzureBillsMinutesAndAPublicIPPerVM() throws {
        let f = try fleet("""
            version: 1
            name: a
            currency: USD
            run: { tests: [tcp_lat], duration: 10s, warmup: 0s, repetitions: 1 }
            pairs: [{ name: d, provider: azure, type: D2s_v5, region: eastus, zones: ["1"], placement_group: cluster }]
            """)
        let p = try prices("azure")
        XCTAssertEqual(p.billingUnit, 60)
        XCTAssertNil(p.billingMonthlyCap)
        let e = try CostEstimate(fleet: f, catalog: try Repo.catalog(), prices: p)
        XCTAssertEqual(e.billedSeconds % 60, 0)
        let ip = try XCTUnwrap(e.lines.first { $0.item.hasPrefix("public IPv4") })
        XCTAssertEqual(ip.unitPrice.amount, Decimal(string: "0.005"))
        XCTAssertTrue(e.lines.contains { $0.item.hasPrefix("disks d") })
        XCTAssertEqual(f.entries.first?.placement, .placementGroup)
    }

    func testFleetRulesForDigitalOceanAndAzure() throws {
        XCTAssertThrowsError(try fleet("""
            version: 1
            name: d
            run: { tests: [tcp_bw] }
            pairs:
              - { name: s, provider: digitalocean, type: s-2vcpu-2gb, region: ams3, zones: [ams3-a] }
              - { name: t, provider: digitalocean, type: s-2vcpu-2gb, region: ams3, placement_group: cluster }
            """)) { error in
            let lines = (error as? InputErrors)?.diagnostics.map(\.description) ?? []
            XCTAssertTrue(lines.contains { $0.hasPrefix("f.yaml:5:") && $0.contains("DigitalOcean has no zones within a region") }, "\(lines)")
            XCTAssertTrue(lines.contains { $0.hasPrefix("f.yaml:6:") && $0.contains("'placement_group' is an AWS and Azure feature; digitalocean has none") }, "\(lines)")
        }
    }

    func testNamesAndImages() {
        XCTAssertEqual(DigitalOceanProvider.runTag("20261201-101500-3fa2"), "cloudbench-run-20261201-101500-3fa2")
        XCTAssertEqual(DigitalOceanProvider.pairTag("20261201-101500-3fa2", "S_2vcpu-1"), "cloudbench-pair-20261201-101500-3fa2-s-2vcpu-1")
        XCTAssertEqual(DigitalOceanProvider.runID(inName: "cloudbench-20261201-101500-3fa2-small-1"), "20261201-101500-3fa2")
        XCTAssertEqual(DigitalOceanProvider.runID(inName: "cloudbench-20261201-101500-3fa2"), "20261201-101500-3fa2")
        XCTAssertNil(DigitalOceanProvider.runID(inName: "cloudbench-managed"))
        XCTAssertNil(DigitalOceanProvider.runID(inName: "cloudbench-20261201-101500-3fa2x"))
        XCTAssertEqual(AzureProvider.vmSize("D2s_v5"), "Standard_D2s_v5")
        XCTAssertEqual(AzureProvider.vmSize("Standard_A1_v2"), "Standard_A1_v2")
        XCTAssertEqual(AzureProvider.imageReference(nil, size: "Standard_D2ps_v5")?["sku"] as? String, "server-arm64")
        XCTAssertEqual(AzureProvider.imageReference(nil, size: "Standard_D2s_v5")?["sku"] as? String, "server")
        XCTAssertNil(AzureProvider.imageReference("ubuntu", size: "Standard_D2s_v5"))
    }

    func testWaitsA429AsksFor() {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        XCTAssertEqual(RESTClient.requestedWait(["ratelimit-reset": "1800000007"], now: now), 7)
        XCTAssertEqual(RESTClient.requestedWait(["ratelimit-reset": "1799999990"], now: now), 0)
        XCTAssertEqual(RESTClient.requestedWait(["retry-after": "3"], now: now), 3)
        XCTAssertNil(RESTClient.requestedWait([:], now: now))
        // The API's own error words, never a header.
        XCTAssertEqual(RESTClient.error(in: ["id": "not_found", "message": "gone"], raw: []).0, "not_found")
        XCTAssertEqual(RESTClient.error(in: ["error": ["code": "SkuNotAvailable", "message": "no"]], raw: []).0, "SkuNotAvailable")
        XCTAssertFalse(AzureCredentials(tenantID: "t", clientID: "c", clientSecret: "s3cr3t", subscriptionID: "x").description.contains("s3cr3t"))
    }
}
