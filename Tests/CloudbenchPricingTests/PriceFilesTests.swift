import CloudbenchCore
import Foundation
import Testing
@testable import CloudbenchPricing

@Suite struct PriceFilesTests {
    @Test func theGeneratedFileRoundTripsThroughTheCatalogParser() throws {
        let dir = try TestPaths.catalogCopy()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let tricky = "http://mirror/api?$filter=a eq 'b' and c \"d\" \\ e"
        let prices = [
            FetchedPrice(type: "D2s_v5", amount: Decimal(string: "0.096")!, currency: "EUR", region: "westeurope", source: tricky, fetchedAt: fetchedAt),
            FetchedPrice(type: "B1s", amount: Decimal(string: "0.0000001")!, currency: "USD", region: "eastus", source: "s", fetchedAt: fetchedAt),
        ]
        let path = try GeneratedPricesFile.write(catalogDirectory: dir, provider: "azure", generatedBy: "cloudbench test",
                                                 fetchedAt: fetchedAt, source: "http://mirror/api", fresh: prices)
        let (provider, list) = try GeneratedPrices.parse(path: path)
        let parsed = Dictionary(list.map { ($0.type, $0.price) }) { a, _ in a }
        #expect(provider == "azure")
        #expect(parsed["D2s_v5"]?.money == Money(Decimal(string: "0.096")!, "EUR"))
        #expect(parsed["D2s_v5"]?.source == tricky)
        #expect(parsed["D2s_v5"]?.region == "westeurope")
        #expect(parsed["B1s"]?.money.amountText == "0.0000001")
        #expect(parsed["B1s"]?.asOf == fetchedAt)
    }

    @Test func pricesAreKeptPerTypeAndRegion() throws {
        let dir = try TestPaths.catalogCopy()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        func price(_ type: String, _ region: String, _ amount: String) -> FetchedPrice {
            FetchedPrice(type: type, amount: Decimal(string: amount)!, currency: "USD", region: region, source: "s", fetchedAt: fetchedAt)
        }
        try GeneratedPricesFile.write(catalogDirectory: dir, provider: "azure", generatedBy: "t", fetchedAt: fetchedAt, source: "s",
                                      fresh: [price("D2s_v5", "eastus", "0.096")])
        // Another region's refresh adds beside it; the same region's replaces.
        try GeneratedPricesFile.write(catalogDirectory: dir, provider: "azure", generatedBy: "t", fetchedAt: fetchedAt, source: "s",
                                      fresh: [price("D2s_v5", "westeurope", "0.115")])
        try GeneratedPricesFile.write(catalogDirectory: dir, provider: "azure", generatedBy: "t", fetchedAt: fetchedAt, source: "s",
                                      fresh: [price("D2s_v5", "eastus", "0.097")])
        let catalog = try Catalog.load(directory: dir)
        #expect(catalog.price("azure", "D2s_v5", region: "eastus")?.money.amount == Decimal(string: "0.097"))
        #expect(catalog.price("azure", "D2s_v5", region: "westeurope")?.money.amount == Decimal(string: "0.115"))
        #expect(catalog.price("azure", "D2s_v5", region: "northeurope") == nil)
        let rows = PriceTable.rows(catalog: catalog, provider: "azure").filter { $0.type == "D2s_v5" }
        #expect(rows.map(\.region) == ["eastus", "westeurope"])
    }

    @Test func staleAndFreshPricesAreTold() throws {
        let now = try #require(ISO8601DateFormatter().date(from: "2026-11-27T12:00:00Z"))
        #expect(PriceTable.ageInDays("2026-11-27T11:00:00Z", now: now) == 0)
        #expect(PriceTable.ageInDays("2026-08-29", now: now) == 90)
        #expect(PriceTable.ageInDays("2026-08-28", now: now) == 91)
        #expect(PriceTable.ageInDays("soon", now: now) == nil)
        let rows = [
            PriceTable.Row(provider: "aws", type: "t3.micro", region: "us-east-1", price: "0.0104", currency: "USD", status: "fetched",
                           asOf: "2026-11-27T11:00:00Z", ageDays: 0, source: "https://x"),
            PriceTable.Row(provider: "azure", type: "A2", region: "eastus", price: "0.12", currency: "USD", status: "reconstructed",
                           asOf: "2015-06-01", ageDays: 4197, source: "list"),
        ]
        #expect(PriceTable.render(rows) == """
            PROVIDER  TYPE      REGION     PRICE/H  CURRENCY  STATUS         AS OF                 AGE (DAYS)  SOURCE
            aws       t3.micro  us-east-1  0.0104   USD       fetched        2026-11-27T11:00:00Z  0           https://x
            azure     A2        eastus     0.12     USD       reconstructed  2015-06-01            4197 (old)  list

            1 of 2 prices are older than 90 days; `cloudbench prices refresh` fetches current ones.

            """)
    }

    @Test func redactionHidesSecretsInURLs() {
        #expect(RedactedURL.describe("https://u:p@host/x?token=abc&per_page=2&X-Amz-Signature=zz")
            == "https://host/x?token=REDACTED&per_page=2&X-Amz-Signature=REDACTED")
        #expect(RedactedURL.rebase("https://prices.azure.com:443/api/retail/prices?$skip=100", onto: "http://127.0.0.1:8080")
            == "http://127.0.0.1:8080/api/retail/prices?$skip=100")
    }

    @Test func endpointOverridesTakeOnlySchemeAndHost() throws {
        let e = try PriceEndpoints.fromEnvironment(["CLOUDBENCH_AWS_PRICES_URL": "http://127.0.0.1:8080/ignored/path",
                                                    "CLOUDBENCH_AZURE_PRICES_URL": "https://mirror.example:8443"])
        #expect(e.aws == "http://127.0.0.1:8080" && e.awsQuery == "http://127.0.0.1:8080")
        #expect(e.azure == "https://mirror.example:8443")
        #expect(e.digitalOcean == "https://api.digitalocean.com")
    }
}
