import Foundation
import Testing
@testable import CloudbenchPricing

@Suite struct AWSPricesTests {
    static let offerPath = "/offers/v1.0/aws/AmazonEC2/current/us-east-1/index.json"

    @Test func streamsTheOfferFileAndKeepsLinuxSharedOnDemand() throws {
        let server = try FixtureServer([.init(path: Self.offerPath, responses: [.init(file: "aws/offer-us-east-1.json", gzip: true)])])
        defer { server.stop() }
        let aws = AWSPrices(client: try testClient(), offerBase: server.base, queryBase: server.base, credentials: nil)
        let result = try aws.fetch(FetchRequest(types: ["t3.micro", "m5.large", "t2.micro"], region: "us-east-1", currency: "USD", fetchedAt: fetchedAt))
        let byType = Dictionary(uniqueKeysWithValues: result.prices.map { ($0.type, $0.amount) })
        // Not Windows 0.0196, Dedicated 0.0114, capacity reservation 0, SQL 0.41, Local Zone 0.0125, reserved 0.0065.
        #expect(byType == ["t3.micro": Decimal(string: "0.0104")!, "m5.large": Decimal(string: "0.096")!])
        #expect(result.missing.map(\.type) == ["t2.micro"])
        #expect(result.prices.first?.source == server.base + Self.offerPath)
        #expect(server.requests().count == 1)
    }

    @Test func aTransferCutOffHalfwayIsStartedOverWithAFreshParser() throws {
        let server = try FixtureServer([.init(path: Self.offerPath, responses: [
            .init(file: "aws/offer-us-east-1.json", cut_at: 9000),
            .init(file: "aws/offer-us-east-1.json"),
        ])])
        defer { server.stop() }
        let aws = AWSPrices(client: try testClient(), offerBase: server.base, queryBase: server.base, credentials: nil)
        let result = try aws.fetch(FetchRequest(types: ["t3.micro"], region: "us-east-1", currency: "USD", fetchedAt: fetchedAt))
        #expect(result.prices.map(\.amount) == [Decimal(string: "0.0104")!])
        #expect(server.requests().count == 2)
    }

    @Test func theStreamingParserGivesTheSameAnswerWhateverTheChunks() throws {
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: TestPaths.fixtures + "/aws/offer-us-east-1.json")))
        for chunk in [1, 13, 4096] {
            let parser = AWSOfferFileParser(wanted: ["t3.micro", "m5.large"])
            var i = 0
            while i < bytes.count {
                let end = min(bytes.count, i + chunk)
                try bytes[i..<end].withUnsafeBytes { try parser.consume($0) }
                i = end
            }
            try parser.finish()
            #expect(parser.matched == ["AAAA1111": "t3.micro", "FFFF6666": "m5.large"])
            #expect(parser.prices.keys.sorted() == ["AAAA1111", "FFFF6666"], "only matched SKUs' terms are kept")
        }
    }

    @Test func aTruncatedOfferFileIsAnError() throws {
        let text = try String(contentsOfFile: TestPaths.fixtures + "/aws/offer-us-east-1.json", encoding: .utf8)
        let server = try FixtureServer([.init(path: Self.offerPath, responses: [.init(body: String(text.prefix(text.count / 2)))])])
        defer { server.stop() }
        let aws = AWSPrices(client: try testClient(), offerBase: server.base, queryBase: server.base, credentials: nil)
        #expect {
            try aws.fetch(FetchRequest(types: ["t3.micro"], region: "us-east-1", currency: "USD", fetchedAt: fetchedAt))
        } throws: { "\($0)".contains("did not answer like the AWS EC2 offer file") && "\($0)".contains("ends in the middle") }
    }

    @Test func anOfferFileInAnotherCurrencyIsAnError() throws {
        let server = try FixtureServer([.init(path: Self.offerPath, responses: [.init(file: "aws/offer-cny.json")])])
        defer { server.stop() }
        let aws = AWSPrices(client: try testClient(), offerBase: server.base, queryBase: server.base, credentials: nil)
        #expect {
            try aws.fetch(FetchRequest(types: ["t3.micro"], region: "us-east-1", currency: "USD", fetchedAt: fetchedAt))
        } throws: { "\($0)".contains("prices in CNY, not the USD asked for") }
    }

    @Test func theQueryAPIIsSignedWithSigV4AndPaged() throws {
        let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
        // The server checks every signature with the secret, as AWS would.
        let sig = FixtureServer.SigV4(access_key: "AKIDEXAMPLE", secret: secret)
        let server = try FixtureServer([
            .init(method: "POST", path: "/", body_contains: ["t3.micro", "NextToken"], verify_sigv4: sig,
                  responses: [.init(file: "aws/getproducts-t3.micro-page2.json")]),
            .init(method: "POST", path: "/", body_contains: ["t3.micro"], verify_sigv4: sig, responses: [
                .init(status: 503, headers: ["Retry-After": "0"], body: "{}"),
                .init(file: "aws/getproducts-t3.micro-page1.json"),
            ]),
            .init(method: "POST", path: "/", body_contains: ["m5.large"], verify_sigv4: sig,
                  responses: [.init(file: "aws/getproducts-m5.large.json")]),
        ])
        defer { server.stop() }
        let credentials = AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: secret, sessionToken: "FQoGZXIvYXdzEXAMPLE")
        let aws = AWSPrices(client: try testClient(), offerBase: server.base, queryBase: server.base, credentials: credentials)
        let result = try aws.fetch(FetchRequest(types: ["t3.micro", "m5.large"], region: "us-east-1", currency: "USD", fetchedAt: fetchedAt))
        let byType = Dictionary(uniqueKeysWithValues: result.prices.map { ($0.type, $0.amount) })
        #expect(byType == ["t3.micro": Decimal(string: "0.0104")!, "m5.large": Decimal(string: "0.096")!])
        #expect(result.source == server.base + "/ (GetProducts)")
        let requests = server.requests()
        #expect(requests.count == 4)  // a 503 retried, two pages for t3.micro, one for m5.large
        for r in requests {
            let auth = r.headers["authorization"] ?? ""
            #expect(auth.hasPrefix("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"))
            #expect(auth.contains("/us-east-1/pricing/aws4_request"))
            #expect(!auth.contains(secret))
            #expect(r.headers["x-amz-target"] == "AWSPriceListService.GetProducts")
            #expect(r.headers["x-amz-security-token"] == "FQoGZXIvYXdzEXAMPLE")
            #expect(r.headers["x-amz-date"] != nil)
            #expect(r.headers["content-type"] == "application/x-amz-json-1.1")
        }
        let body = try JSONNode.parse(requests[1].body)
        #expect(body["ServiceCode"]?.string == "AmazonEC2")
        #expect(body["FormatVersion"]?.string == "aws_v1")
        let filters = (body["Filters"]?.array ?? []).compactMap { f -> String? in
            guard let field = f["Field"]?.string, let value = f["Value"]?.string, f["Type"]?.string == "TERM_MATCH" else { return nil }
            return "\(field)=\(value)"
        }
        #expect(Set(filters) == ["instanceType=t3.micro", "regionCode=us-east-1", "operatingSystem=Linux", "tenancy=Shared",
                                 "preInstalledSw=NA", "capacitystatus=Used"])
        #expect(requests[2].body.contains("\"NextToken\":\"eyJwYWdlIjoyfQ==:page2\""))
        #expect(!String(describing: credentials).contains(secret))
    }

    @Test func aWrongSecretIsRefusedWithAClearErrorThatNeverShowsIt() throws {
        let server = try FixtureServer([
            .init(method: "POST", path: "/", verify_sigv4: .init(access_key: "AKIDEXAMPLE", secret: "the-right-secret"),
                  responses: [.init(file: "aws/getproducts-m5.large.json")]),
        ])
        defer { server.stop() }
        let wrong = "the-wrong-secret-0123456789"
        let aws = AWSPrices(client: try testClient(), offerBase: server.base, queryBase: server.base,
                            credentials: AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: wrong))
        #expect {
            try aws.fetch(FetchRequest(types: ["m5.large"], region: "us-east-1", currency: "USD", fetchedAt: fetchedAt))
        } throws: {
            let m = "\($0)"
            return m.contains("refused the request") && m.contains("HTTP 403") && m.contains("signature") && !m.contains(wrong)
        }
    }

    @Test func aBadRegionIsAnInputError() throws {
        let aws = AWSPrices(client: try testClient(), offerBase: "http://127.0.0.1:9", queryBase: "http://127.0.0.1:9", credentials: nil)
        #expect {
            try aws.fetch(FetchRequest(types: ["t3.micro"], region: "../../etc", currency: "USD", fetchedAt: fetchedAt))
        } throws: { ($0 as? PricingError)?.isInputError == true && "\($0)".contains("not an AWS region code") }
    }
}
