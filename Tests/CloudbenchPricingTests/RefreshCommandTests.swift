import CloudbenchCore
import CloudbenchProcess
import Foundation
import Testing
@testable import CloudbenchPricing

/// Runs the built `cloudbench` with `environment` added; returns (status, stdout, stderr).
func runCloudbench(_ args: [String], environment: [String: String]) throws -> (Int32, String, String) {
    let exe = TestPaths.cloudbench
    guard FileManager.default.isExecutableFile(atPath: exe) else {
        throw TestFailure("\(exe) is not built; run `swift build` first (or set CLOUDBENCH_BIN)")
    }
    var env = ProcessInfo.processInfo.environment
    for k in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "DIGITALOCEAN_TOKEN", "CLOUDBENCH_PROVIDERS"] { env[k] = nil }
    env.merge(environment) { _, new in new }
    let r = try ProcessRunner.run([exe] + args, environment: env, deadline: 120)
    return (r.status, r.stdout, r.stderr)
}

func contents(_ path: String) -> Data? { FileManager.default.contents(atPath: path) }

@Suite struct RefreshCommandTests {
    @Test func refreshWritesFetchedPricesTheCatalogLoadsAndKeepsTheHandWrittenFile() throws {
        let server = try FixtureServer(azureRoutes())
        defer { server.stop() }
        let catalog = try TestPaths.catalogCopy()
        defer { try? FileManager.default.removeItem(atPath: catalog) }
        let handWritten = contents("\(catalog)/azure.yaml")
        let (status, out, err) = try runCloudbench(["prices", "refresh", "--provider", "azure", "--type", "D2s_v5", "B1s", "A0", "--catalog", catalog],
                                                   environment: ["CLOUDBENCH_AZURE_PRICES_URL": server.base])
        #expect(status == 0, "\(err)")
        #expect(out.contains("azure (eastus): 2 prices written to \(catalog)/prices/azure.yaml"))
        #expect(out.contains("  D2s_v5: 0.096 USD/h (was 0.096 USD quoted 2025-06-01)"))
        #expect(out.contains("  A0: not refreshed, no Linux pay-as-you-go price for Standard_A0 in eastus; the catalog's price stays"))
        #expect(contents("\(catalog)/azure.yaml") == handWritten)

        let loaded = try Catalog.load(directory: catalog)
        let d2 = try #require(loaded.type("azure", "D2s_v5")?.price(in: "eastus"))
        #expect(d2.status == .fetched)
        #expect(d2.money == Money(Decimal(string: "0.096")!, "USD"))
        #expect(d2.source.hasPrefix(server.base + "/api/retail/prices?currencyCode="))
        #expect(PriceTable.ageInDays(d2.asOf, now: Date()) == 0)
        #expect(loaded.type("azure", "A0")?.price(in: "eastus")?.status == .reconstructed)  // not found: hand-written price stays
        #expect(loaded.type("azure", "B1s")?.price(in: "eastus")?.money.amount == Decimal(string: "0.0104"))

        // A second refresh of one type keeps the other fetched price in the file.
        let (s2, _, e2) = try runCloudbench(["prices", "refresh", "--provider", "azure", "--type", "B1s", "--catalog", catalog],
                                            environment: ["CLOUDBENCH_AZURE_PRICES_URL": server.base])
        #expect(s2 == 0, "\(e2)")
        let again = try Catalog.load(directory: catalog)
        #expect(again.type("azure", "D2s_v5")?.price(in: "eastus")?.status == .fetched)

        let (s3, shown, _) = try runCloudbench(["prices", "show", "--provider", "azure", "--catalog", catalog], environment: [:])
        #expect(s3 == 0)
        let d2Row = try #require(shown.split(separator: "\n").first { $0.hasPrefix("azure ") && $0.contains(" D2s_v5 ") })
        #expect(d2Row.contains(" 0.096 ") && d2Row.contains(" fetched ") && d2Row.contains(server.base))
        let a0Row = try #require(shown.split(separator: "\n").first { $0.contains(" A0 ") })
        #expect(a0Row.contains(" reconstructed ") && a0Row.contains("(old)"))
    }

    @Test func aBadResponseLeavesTheCatalogUnchanged() throws {
        let good = try FixtureServer(azureRoutes())
        defer { good.stop() }
        let catalog = try TestPaths.catalogCopy()
        defer { try? FileManager.default.removeItem(atPath: catalog) }
        let (s1, _, e1) = try runCloudbench(["prices", "refresh", "--provider", "azure", "--type", "D2s_v5", "--catalog", catalog],
                                            environment: ["CLOUDBENCH_AZURE_PRICES_URL": good.base])
        #expect(s1 == 0, "\(e1)")
        let before = contents("\(catalog)/prices/azure.yaml")
        #expect(before != nil)

        for bad in [FixtureServer.Response(file: "azure/malformed.json"), .init(file: "azure/d2s_v5-eur.json"),
                    .init(status: 404, body: "gone"), .init(file: "azure/empty.json")] {
            let server = try FixtureServer([.init(path: "/api/retail/prices", responses: [bad])])
            defer { server.stop() }
            let (status, out, err) = try runCloudbench(["prices", "refresh", "--provider", "azure", "--type", "D2s_v5", "--catalog", catalog],
                                                       environment: ["CLOUDBENCH_AZURE_PRICES_URL": server.base])
            #expect(status == 1)
            #expect(out.isEmpty)
            #expect(err.hasPrefix("error: azure: ") && err.split(separator: "\n").count == 1, "\(err)")
            #expect(!err.contains("Fatal error") && !err.contains("Stack dump"))
            #expect(contents("\(catalog)/prices/azure.yaml") == before)
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: "\(catalog)/prices")
            #expect(leftovers == ["azure.yaml"])
        }
    }

    @Test func digitalOceanAndAWSEndToEnd() throws {
        let server = try FixtureServer(digitalOceanRoutes() + [
            .init(path: AWSPricesTests.offerPath, responses: [.init(file: "aws/offer-us-east-1.json")]),
        ])
        defer { server.stop() }
        let catalog = try TestPaths.catalogCopy()
        defer { try? FileManager.default.removeItem(atPath: catalog) }
        let env = ["CLOUDBENCH_DIGITALOCEAN_API_URL": server.base, "CLOUDBENCH_AWS_PRICES_URL": server.base,
                   "DIGITALOCEAN_TOKEN": "dop_v1_do_not_print_me"]
        let (status, out, err) = try runCloudbench(["prices", "refresh", "--provider", "digitalocean", "--catalog", catalog], environment: env)
        #expect(status == 0, "\(err)")
        #expect(!(out + err).contains("do_not_print_me"))
        let (s2, _, e2) = try runCloudbench(["prices", "refresh", "--provider", "aws", "--type", "t3.micro", "m5.large", "--catalog", catalog], environment: env)
        #expect(s2 == 0, "\(e2)")
        let loaded = try Catalog.load(directory: catalog)
        #expect(loaded.type("digitalocean", "s-1vcpu-1gb")?.price(in: "any")?.money.amount == Decimal(string: "0.00893"))
        #expect(loaded.type("digitalocean", "s-1vcpu-512mb-10gb")?.price(in: "any")?.money.amount == Decimal(string: "0.005952"))
        #expect(loaded.type("aws", "t3.micro")?.price(in: "us-east-1")?.status == .fetched)
        #expect(loaded.type("aws", "t3.micro")?.price(in: "us-east-1")?.region == "us-east-1")
        #expect(loaded.type("aws", "t3.micro")?.price(in: "us-east-1")?.source == server.base + AWSPricesTests.offerPath)
        #expect(loaded.type("aws", "t2.micro")?.price(in: "us-east-1")?.status == .quoted)
    }

    @Test func theInventorysRegionsAreEachFetchedAndPricedApart() throws {
        let server = try FixtureServer(digitalOceanRoutes())
        defer { server.stop() }
        let catalog = try TestPaths.catalogCopy()
        defer { try? FileManager.default.removeItem(atPath: catalog) }
        // Beside the catalog folder, not in it (every *.yaml there is a provider catalog).
        let inventory = "\(catalog)-inventory.yaml"
        defer { try? FileManager.default.removeItem(atPath: inventory) }
        try """
        version: 1
        name: regions
        pairs:
          - { name: a, provider: digitalocean, type: s-1vcpu-1gb, region: sgp1, server: { address: 10.0.0.1 }, client: { address: 10.0.0.2 } }
          - { name: b, provider: digitalocean, type: s-1vcpu-512mb-10gb, region: ams3, server: { address: 10.0.0.3 }, client: { address: 10.0.0.4 } }
        """.write(toFile: inventory, atomically: true, encoding: .utf8)
        let env = ["CLOUDBENCH_DIGITALOCEAN_API_URL": server.base, "DIGITALOCEAN_TOKEN": "dop_v1_do_not_print_me"]
        let (status, out, err) = try runCloudbench(["prices", "refresh", "--inventory", inventory, "--catalog", catalog], environment: env)
        #expect(status == 0, "\(err)")
        #expect(out.contains("digitalocean (sgp1): 1 price written") && out.contains("digitalocean (ams3): 2 prices written"), "\(out)")
        #expect(out.contains("s-1vcpu-512mb-10gb: not refreshed, size 's-1vcpu-512mb-10gb' is not offered in sgp1"), "\(out)")
        let loaded = try Catalog.load(directory: catalog)
        #expect(loaded.price("digitalocean", "s-1vcpu-1gb", region: "sgp1")?.status == .fetched)
        #expect(loaded.price("digitalocean", "s-1vcpu-1gb", region: "ams3")?.region == "ams3")
        #expect(loaded.price("digitalocean", "s-1vcpu-512mb-10gb", region: "ams3")?.status == .fetched)
        // sgp1 does not offer it: the hand-written `any` price still applies there, the fetched ams3 one does not.
        #expect(loaded.price("digitalocean", "s-1vcpu-512mb-10gb", region: "sgp1")?.region == "any")
        // Only the inventory's providers were refreshed.
        #expect(!FileManager.default.fileExists(atPath: "\(catalog)/prices/azure.yaml"))
    }

    @Test func inputMistakesExitWithStatus2AndASuggestion() throws {
        let catalog = try TestPaths.catalogCopy()
        defer { try? FileManager.default.removeItem(atPath: catalog) }
        let env = ["CLOUDBENCH_AZURE_PRICES_URL": "http://127.0.0.1:9"]
        let (s1, _, e1) = try runCloudbench(["prices", "refresh", "--provider", "azur", "--catalog", catalog], environment: env)
        #expect(s1 == 2 && e1.contains("unknown provider 'azur'") && e1.contains("did you mean 'azure'"), "\(e1)")
        let (s2, _, e2) = try runCloudbench(["prices", "refresh", "--provider", "azure", "--type", "D2s_v6", "--catalog", catalog], environment: env)
        #expect(s2 == 2 && e2.contains("unknown instance type 'D2s_v6'"), "\(e2)")
        let (s3, _, e3) = try runCloudbench(["prices", "refresh", "--provider", "digitalocean", "--catalog", catalog], environment: env)
        #expect(s3 == 2 && e3.contains("DIGITALOCEAN_TOKEN is not set"), "\(e3)")
        let (s4, _, e4) = try runCloudbench(["prices", "refresh", "--provider", "azure", "--catalog", catalog],
                                            environment: ["CLOUDBENCH_AZURE_PRICES_URL": "ftp://mirror"])
        #expect(s4 == 2 && e4.contains("is not an http(s) address"), "\(e4)")
        #expect(!FileManager.default.fileExists(atPath: "\(catalog)/prices"))
    }

    @Test func proxiesFromTheEnvironmentAreHonoured() throws {
        // The fixture server plays the proxy. The "API" is on 127.0.0.2 port 9, where nothing listens:
        // the refresh can only succeed through the proxy (and without it, goes nowhere but loopback).
        let proxy = try FixtureServer(azureRoutes())
        defer { proxy.stop() }
        let catalog = try TestPaths.catalogCopy()
        defer { try? FileManager.default.removeItem(atPath: catalog) }
        let (status, _, err) = try runCloudbench(["prices", "refresh", "--provider", "azure", "--type", "B1s", "--catalog", catalog],
                                                 environment: ["CLOUDBENCH_AZURE_PRICES_URL": "http://127.0.0.2:9",
                                                               "http_proxy": proxy.base, "no_proxy": ""])
        #expect(status == 0, "\(err)")
        let seen = try #require(proxy.requests().first)
        #expect(seen.target.hasPrefix("http://127.0.0.2:9/api/retail/prices?"))
    }

    @Test func refreshingEveryProviderSkipsDigitalOceanWithoutAToken() throws {
        let server = try FixtureServer(azureRoutes() + [
            // Every other Azure size: the API knows no Linux meter for it (the retired 2015 sizes).
            .init(path: "/api/retail/prices", responses: [.init(file: "azure/empty.json")]),
            .init(path: AWSPricesTests.offerPath, responses: [.init(file: "aws/offer-us-east-1.json")]),
        ])
        defer { server.stop() }
        let catalog = try TestPaths.catalogCopy()
        defer { try? FileManager.default.removeItem(atPath: catalog) }
        let (status, out, err) = try runCloudbench(["prices", "refresh", "--catalog", catalog],
                                                   environment: ["CLOUDBENCH_AZURE_PRICES_URL": server.base,
                                                                 "CLOUDBENCH_AWS_PRICES_URL": server.base])
        #expect(status == 0, "\(err)")
        #expect(out.contains("aws (us-east-1): 2 prices written"))
        #expect(out.contains("azure (eastus): 2 prices written"))
        #expect(out.contains("digitalocean: skipped, DIGITALOCEAN_TOKEN is not set; the catalog's prices stay"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(catalog)/prices").sorted() == ["aws.yaml", "azure.yaml"])
    }
}
