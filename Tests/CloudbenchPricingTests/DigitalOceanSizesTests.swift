import Foundation
import Testing
@testable import CloudbenchPricing

func digitalOceanRoutes() -> [FixtureServer.Route] {
    [
        .init(path: "/v2/sizes", query_contains: ["page=2&"], responses: [.init(file: "digitalocean/sizes-page2-empty.json")]),
        .init(path: "/v2/sizes", query_contains: ["page=3&"], responses: [.init(file: "digitalocean/sizes-page3.json")]),
        .init(path: "/v2/sizes", responses: [.init(file: "digitalocean/sizes-page1.json")]),
    ]
}

@Suite struct DigitalOceanSizesTests {
    @Test func followsPagesSendsTheTokenAndPrefersPriceHourly() throws {
        let server = try FixtureServer(digitalOceanRoutes())
        defer { server.stop() }
        let token = "dop_v1_0123456789abcdef"
        let doAPI = DigitalOceanSizes(client: try testClient(), base: server.base, token: token)
        let result = try doAPI.fetch(FetchRequest(types: ["s-1vcpu-1gb", "s-1vcpu-512mb-10gb", "s-2vcpu-4gb", "512mb"],
                                                  region: "any", currency: "USD", fetchedAt: fetchedAt))
        let byType = Dictionary(uniqueKeysWithValues: result.prices.map { ($0.type, $0.amount) })
        #expect(byType["s-1vcpu-1gb"] == Decimal(string: "0.00893"))  // price_hourly as given
        #expect(byType["s-1vcpu-512mb-10gb"] == Decimal(string: "0.005952"))  // no price_hourly: 4 / 672
        #expect(byType["s-2vcpu-4gb"] == Decimal(string: "0.03571"))  // on page 3, after an empty page 2
        #expect(result.missing.map(\.type) == ["512mb"])
        let requests = server.requests()
        #expect(requests.map(\.query) == ["per_page=200", "page=2&per_page=200", "page=3&per_page=200"])
        #expect(requests.allSatisfy { $0.headers["authorization"] == "Bearer \(token)" })
    }

    @Test func aRegionFilterDropsSizesNotOfferedThere() throws {
        let server = try FixtureServer(digitalOceanRoutes())
        defer { server.stop() }
        let doAPI = DigitalOceanSizes(client: try testClient(), base: server.base, token: "t")
        let result = try doAPI.fetch(FetchRequest(types: ["s-1vcpu-1gb", "s-1vcpu-512mb-10gb"], region: "sgp1", currency: "USD", fetchedAt: fetchedAt))
        #expect(result.prices.map(\.type) == ["s-1vcpu-1gb"])
        #expect(result.prices.first?.region == "sgp1")
        #expect(result.missing.first?.reason.contains("not offered in sgp1") == true)
    }

    @Test func aMissingTokenAndARefusedTokenAreClearErrorsThatNeverShowTheToken() throws {
        #expect { try DigitalOceanSizes.token(from: [:]) } throws: { "\($0)".contains("DIGITALOCEAN_TOKEN is not set") }
        let server = try FixtureServer([.init(path: "/v2/sizes", responses: [.init(status: 401, file: "digitalocean/unauthorized.json")])])
        defer { server.stop() }
        let token = "dop_v1_secretsecretsecret"
        let doAPI = DigitalOceanSizes(client: try testClient(), base: server.base, token: token)
        #expect {
            try doAPI.fetch(FetchRequest(types: ["s-1vcpu-1gb"], region: "any", currency: "USD", fetchedAt: fetchedAt))
        } throws: { "\($0)".contains("refused DIGITALOCEAN_TOKEN (HTTP 401)") && !"\($0)".contains(token) }
    }

    @Test func theHourlyRuleIsMonthlyOver672() {
        #expect(DigitalOceanSizes.hourly(.object(["price_monthly": .number("5.0")])) == Decimal(string: "0.007440"))
        #expect(DigitalOceanSizes.hourly(.object(["price_monthly": .number("6"), "price_hourly": .number("0.00893")])) == Decimal(string: "0.00893"))
        #expect(DigitalOceanSizes.hourly(.object(["slug": .string("x")])) == nil)
    }
}
