import Foundation
import Testing
@testable import CloudbenchPricing

@Suite struct HTTPRedirectTests {
    static let credentials = AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                                            sessionToken: "session-token-do-not-forward")

    @Test func plainHTTPIsRefusedByDefaultWithoutConnecting() throws {
        let server = try FixtureServer([.init(path: "/a", responses: [.init(status: 200, body: "{}")])])
        defer { server.stop() }
        var c = HTTPClient.Configuration(userAgent: "cloudbench-test")
        c.retry = RetryPolicy(maxAttempts: 1, baseDelay: 0.01, maxDelay: 0.1, maxRetryAfter: 1)
        let client = try HTTPClient(configuration: c)
        #expect { try client.send(HTTPRequest(url: server.base + "/a")) } throws: { "\($0)".contains("plain http") }
        #expect(server.requests().isEmpty)
        // The loopback exception never reaches another host.
        #expect(HTTPRedirect.refusal("http://prices.example/a", plainHTTPToLoopback: true) != nil)
        #expect(HTTPRedirect.refusal("http://127.0.0.1:8/a", plainHTTPToLoopback: true) == nil)
        #expect(HTTPRedirect.refusal("ftp://127.0.0.1/a", plainHTTPToLoopback: true) != nil)
        #expect(HTTPRedirect.refusal("https://prices.azure.com/api", plainHTTPToLoopback: false) == nil)
    }

    @Test func aRedirectToAnotherHostDropsEveryCredentialHeaderAndTheSigning() throws {
        let server = try FixtureServer([.init(path: "/elsewhere", responses: [.init(status: 200, body: #"{"ok": true}"#)])])
        defer { server.stop() }
        // "localhost" is another host than "127.0.0.1", on the same fixture server.
        let other = "http://localhost:\(server.port)/elsewhere"
        let server2 = try FixtureServer([
            .init(path: "/start", responses: [.init(status: 302, headers: ["Location": "/same"], body: "")]),
            .init(path: "/same", responses: [.init(status: 307, headers: ["Location": other], body: "")]),
        ])
        defer { server2.stop() }
        let client = try testClient(attempts: 1)
        // AWS: signed by libcurl, with the session token.
        var signed = HTTPRequest(url: server2.base + "/start", headers: [("X-Api-Key", "k"), ("Accept", "application/json")])
        signed.awsSigning = AWSSigning(provider: "aws:amz:us-east-1:pricing", credentials: Self.credentials)
        let response = try client.send(signed)
        #expect(String(decoding: response.body, as: UTF8.self) == #"{"ok": true}"#)
        let first = server2.requests()
        #expect(first.count == 2)
        // The same origin keeps them.
        #expect(first.allSatisfy { $0.headers["x-amz-security-token"] == "session-token-do-not-forward" && $0.headers["x-api-key"] == "k" })
        #expect(first.allSatisfy { ($0.headers["authorization"] ?? "").hasPrefix("AWS4-HMAC-SHA256") }, "\(first.map(\.headers))")
        let last = try #require(server.requests().last)
        #expect(last.path == "/elsewhere")
        #expect(last.headers["authorization"] == nil && last.headers["x-amz-security-token"] == nil && last.headers["x-api-key"] == nil,
                "\(last.headers)")
        #expect(last.headers["accept"] == "application/json")

        // DigitalOcean: a bearer token in Authorization.
        _ = try client.send(HTTPRequest(url: server2.base + "/start", headers: [("Authorization", "Bearer dop_v1_secret")]))
        #expect(server2.requests().suffix(2).allSatisfy { $0.headers["authorization"] == "Bearer dop_v1_secret" })
        let moved = try #require(server.requests().last)
        #expect(server.requests().count == 2 && moved.headers["authorization"] == nil, "\(moved.headers)")
    }

    @Test func aRedirectToPlainHTTPElsewhereIsRefused() throws {
        let server = try FixtureServer([
            .init(path: "/start", responses: [.init(status: 301, headers: ["Location": "http://prices.example/x"], body: "")]),
        ])
        defer { server.stop() }
        let client = try testClient(attempts: 1)
        #expect { try client.send(HTTPRequest(url: server.base + "/start")) } throws: {
            "\($0)".contains("redirected to http://prices.example/x, which is refused")
        }
    }

    @Test func aRedirectLoopStopsAfterFiveHops() throws {
        let server = try FixtureServer([.init(path: "/loop", responses: [.init(status: 302, headers: ["Location": "/loop"], body: "")])])
        defer { server.stop() }
        let client = try testClient(attempts: 1)
        #expect { try client.send(HTTPRequest(url: server.base + "/loop")) } throws: { "\($0)".contains("redirected more than 5 times") }
        #expect(server.requests().count == 6)
    }

    @Test func aPOSTRedirectedWith303BecomesAGETAndA307KeepsItsBody() throws {
        let post = HTTPRequest(url: "https://a.example/x", method: .post, body: Array("Action=Describe".utf8))
        let see = try HTTPRedirect.follow(post, status: 303, location: "/y", plainHTTPToLoopback: false)
        #expect(see.method == .get && see.body == nil && see.url == "https://a.example/y")
        let keep = try HTTPRedirect.follow(post, status: 307, location: "https://a.example/z", plainHTTPToLoopback: false)
        #expect(keep.method == .post && keep.body == post.body)
    }

    @Test func environmentOverridesAreHTTPSOrLoopback() throws {
        #expect(throws: PricingError.self) { try PriceEndpoints.fromEnvironment(["CLOUDBENCH_AZURE_PRICES_URL": "http://mirror.example:8080"]) }
        let e = try PriceEndpoints.fromEnvironment(["CLOUDBENCH_AZURE_PRICES_URL": "http://127.0.0.1:8080"])
        #expect(e.azure == "http://127.0.0.1:8080" && e.plainHTTPToLoopback)
        #expect(!(try PriceEndpoints.fromEnvironment([:])).plainHTTPToLoopback)
    }
}
