import Foundation
import Testing
@testable import CloudbenchPricing

let fetchedAt = "2026-11-27T13:40:00Z"

func azureRoutes() -> [FixtureServer.Route] {
    [
        .init(path: "/api/retail/prices", query_contains: ["Standard_D2s_v5", "$skip=100"], responses: [.init(file: "azure/d2s_v5-page2-empty.json")]),
        .init(path: "/api/retail/prices", query_contains: ["Standard_D2s_v5", "$skip=200"], responses: [.init(file: "azure/d2s_v5-page3.json")]),
        .init(path: "/api/retail/prices", query_contains: ["Standard_D2s_v5"], responses: [.init(file: "azure/d2s_v5-page1.json")]),
        .init(path: "/api/retail/prices", query_contains: ["Standard_B1s"], responses: [.init(file: "azure/b1s.json", gzip: true)]),
        .init(path: "/api/retail/prices", query_contains: ["Standard_A0"], responses: [.init(file: "azure/empty.json")]),
    ]
}

@Suite struct AzureRetailPricesTests {
    @Test func keepsOnlyTheLinuxPayAsYouGoMeterAcrossPages() throws {
        let server = try FixtureServer(azureRoutes())
        defer { server.stop() }
        let azure = AzureRetailPrices(client: try testClient(), base: server.base)
        let result = try azure.fetch(FetchRequest(types: ["D2s_v5", "B1s", "A0"], region: "eastus", currency: "USD", fetchedAt: fetchedAt))
        let byType = Dictionary(uniqueKeysWithValues: result.prices.map { ($0.type, $0) })
        // Not the Windows (0.188), Spot/Low Priority (0.0192), DevTest (0.0606), reservation (508) or
        // non-primary (0.101) meters.
        #expect(byType["D2s_v5"]?.amount == Decimal(string: "0.096"))
        #expect(byType["D2s_v5"]?.currency == "USD")
        #expect(byType["D2s_v5"]?.region == "eastus")
        #expect(byType["D2s_v5"]?.fetchedAt == fetchedAt)
        #expect(byType["D2s_v5"]?.source.hasPrefix(server.base + "/api/retail/prices?currencyCode=") == true)
        #expect(byType["B1s"]?.amount == Decimal(string: "0.0104"))
        #expect(result.missing.map(\.type) == ["A0"])
        let requests = server.requests()
        // D2s_v5: three pages, the later two reached by rebasing the real host's NextPageLink onto the mirror.
        #expect(requests.filter { $0.query.contains("Standard_D2s_v5") }.count == 3)
        let first = try #require(requests.first)
        #expect(first.query.contains("currencyCode='USD'"))
        #expect(first.query.contains("$filter=serviceName eq 'Virtual Machines' and armRegionName eq 'eastus' and armSkuName eq 'Standard_D2s_v5' and priceType eq 'Consumption'"))
    }

    @Test func aWrongCurrencyIsAnError() throws {
        let server = try FixtureServer([.init(path: "/api/retail/prices", responses: [.init(file: "azure/d2s_v5-eur.json")])])
        defer { server.stop() }
        let azure = AzureRetailPrices(client: try testClient(), base: server.base)
        #expect {
            try azure.fetch(FetchRequest(types: ["D2s_v5"], region: "eastus", currency: "USD", fetchedAt: fetchedAt))
        } throws: { "\($0)".contains("answered in EUR, not the USD asked for") }
    }

    @Test func malformedJSONIsAnErrorNamingTheURL() throws {
        let server = try FixtureServer([.init(path: "/api/retail/prices", responses: [.init(file: "azure/malformed.json")])])
        defer { server.stop() }
        let azure = AzureRetailPrices(client: try testClient(), base: server.base)
        #expect {
            try azure.fetch(FetchRequest(types: ["D2s_v5"], region: "eastus", currency: "USD", fetchedAt: fetchedAt))
        } throws: {
            let m = "\($0)"
            return m.contains(server.base + "/api/retail/prices") && m.contains("did not answer like the Azure Retail Prices API")
                && m.contains("malformed JSON") && m.contains("the catalog is unchanged")
        }
    }

    @Test func typeNamesMapToARMSKUs() {
        #expect(AzureRetailPrices.armSkuName(forType: "D2s_v5") == "Standard_D2s_v5")
        #expect(AzureRetailPrices.armSkuName(forType: "A2") == "Standard_A2")
        #expect(AzureRetailPrices.type(forArmSkuName: "Standard_D2s_v5") == "D2s_v5")
        #expect(AzureRetailPrices.type(forArmSkuName: "Basic_A2") == "Basic_A2")
    }
}
