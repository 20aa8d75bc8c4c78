import Foundation
import Testing
@testable import CloudbenchCore

@Suite("Provider catalogs")
struct CatalogTests {
    let catalog = try! Catalog.load(directory: RepoPaths.providers)

    @Test("the shipped catalogs cover the reference study's and today's types")
    func coverage() throws {
        for (p, names) in [
            ("azure", ["A0", "A1", "A2", "A3", "A4", "A8", "D1", "D2", "B1s", "B2s", "D2s_v5"]),
            ("aws", ["t2.micro", "t2.small", "t2.medium", "m4.large", "m4.xlarge", "m4.2xlarge",
                     "t3.micro", "t3.small", "t3.medium", "m5.large", "m7i.large"]),
            ("digitalocean", ["512mb", "s-1vcpu-512mb-10gb", "s-4vcpu-8gb"]),
        ] {
            for n in names { #expect(catalog.type(p, n) != nil, "\(p) \(n) missing") }
        }
    }

    @Test("prices are exact decimals with their status")
    func prices() throws {
        let a2 = try #require(catalog.type("azure", "A2")?.price(in: "eastus"))
        #expect(a2.money == Money(Decimal(string: "0.12")!, "USD"))
        #expect(a2.status == .reconstructed)
        let t3 = try #require(catalog.type("aws", "t3.micro")?.price(in: "us-east-1"))
        #expect(t3.money.amountText == "0.0104")
        #expect(t3.status == .quoted)
        #expect(catalog.type("aws", "m5.large")?.documentedNetwork == "Up to 10 Gigabit")
    }

    @Test("conversion uses the rate table dated nearest the price")
    func conversion() throws {
        let rates = catalog.exchangeRates
        let (usd, used) = try #require(rates.convert(Money(Decimal(string: "0.1207")!, "EUR"), to: "USD", on: "2015-10-01"))
        #expect(used?.date == "2015-06-01")
        #expect(Money.rounded(usd.amount, places: 4) == Decimal(string: "0.1353"))
        let (same, none) = try #require(rates.convert(Money(1, "USD"), to: "USD", on: "2020-01-01"))
        #expect(same.amount == 1 && none == nil)
        #expect(rates.convert(Money(1, "CHF"), to: "USD", on: "2020-01-01") == nil)
    }
}
