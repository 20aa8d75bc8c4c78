import Foundation
import Testing
@testable import CloudbenchPricing

func testClient(attempts: Int = 3, baseDelay: Double = 0.01, totalTimeout: Double = 20) throws -> HTTPClient {
    var c = HTTPClient.Configuration(userAgent: "cloudbench/0.1.0-test (+prices refresh) libcurl/\(HTTPClient.curlVersion)")
    c.retry = RetryPolicy(maxAttempts: attempts, baseDelay: baseDelay, maxDelay: 0.1, maxRetryAfter: 5)
    c.connectTimeout = 5
    c.totalTimeout = totalTimeout
    // The fixture server is plain http on 127.0.0.1.
    c.plainHTTPToLoopback = true
    return try HTTPClient(configuration: c)
}

@Suite struct HTTPClientTests {
    @Test func retriesA429AfterTheRetryAfterDelayThenSucceeds() throws {
        let server = try FixtureServer([
            .init(path: "/limited", responses: [
                .init(status: 429, headers: ["Retry-After": "1"], body: #"{"error":"slow down"}"#),
                .init(status: 200, body: #"{"ok": true}"#),
            ]),
        ])
        defer { server.stop() }
        let client = try testClient()
        var waits: [(Int, Double)] = []
        client.onRetry = { _, status, wait in waits.append((status, wait)) }
        let start = Date()
        let response = try client.send(HTTPRequest(url: server.base + "/limited"))
        let elapsed = Date().timeIntervalSince(start)
        #expect(String(decoding: response.body, as: UTF8.self) == #"{"ok": true}"#)
        #expect(server.requests().count == 2)
        #expect(waits.count == 1 && waits[0].0 == 429 && waits[0].1 == 1)
        #expect(elapsed >= 1.0 && elapsed < 5, "waited \(elapsed) s")
    }

    @Test func givesUpOnA500AfterTheLastAttemptWithAClearError() throws {
        let server = try FixtureServer([
            .init(path: "/broken", responses: [.init(status: 500, body: "upstream exploded")]),
        ])
        defer { server.stop() }
        let client = try testClient(attempts: 3)
        #expect {
            try client.send(HTTPRequest(url: server.base + "/broken?token=s3cr3t&x=1"))
        } throws: { error in
            let m = "\(error)"
            return m.contains("answered HTTP 500 after 3 attempts") && m.contains("upstream exploded")
                && m.contains("try again later") && !m.contains("s3cr3t") && m.contains("token=REDACTED")
        }
        #expect(server.requests().count == 3)
    }

    @Test func doesNotRetryA404() throws {
        let server = try FixtureServer([])
        defer { server.stop() }
        let client = try testClient(attempts: 4)
        #expect(throws: PricingError.self) { try client.send(HTTPRequest(url: server.base + "/nothing-here")) }
        #expect(server.requests().count == 1)
    }

    @Test func sendsUserAgentAcceptsGzipAndDecodesIt() throws {
        let body = String(repeating: #"{"k":"v"},"#, count: 500)
        let server = try FixtureServer([
            .init(path: "/zipped", responses: [.init(body: "[\(body)1]", gzip: true)]),
        ])
        defer { server.stop() }
        let response = try testClient().send(HTTPRequest(url: server.base + "/zipped", headers: [("Accept", "application/json")]))
        #expect(response.head.headers["content-encoding"] == "gzip")
        #expect(String(decoding: response.body, as: UTF8.self) == "[\(body)1]")
        let seen = try #require(server.requests().first)
        #expect(seen.headers["user-agent"]?.hasPrefix("cloudbench/0.1.0") == true)
        #expect(seen.headers["accept-encoding"]?.contains("gzip") == true)
        #expect(seen.headers["accept"] == "application/json")
    }

    @Test func aDeadServerIsAClearErrorNotAHang() throws {
        // A port that was just free: nothing listens there.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        let port = Int(UInt16(bigEndian: addr.sin_port))
        close(fd)
        let start = Date()
        #expect {
            try testClient(attempts: 2).send(HTTPRequest(url: "http://127.0.0.1:\(port)/x"))
        } throws: { "\($0)".contains("cannot fetch http://127.0.0.1:\(port)/x") }
        #expect(Date().timeIntervalSince(start) < 5)
    }

    @Test func aSlowServerHitsTheTotalDeadline() throws {
        let server = try FixtureServer([.init(path: "/slow", responses: [.init(body: "{}", delay: 4)])])
        defer { server.stop() }
        let start = Date()
        #expect {
            try testClient(attempts: 1, totalTimeout: 1).send(HTTPRequest(url: server.base + "/slow"))
        } throws: { "\($0)".contains("timed out") || "\($0)".contains("Timeout") }
        #expect(Date().timeIntervalSince(start) < 3)
    }

    @Test func aRequestNeverPrintsItsHeaders() {
        let r = HTTPRequest(url: "https://api.digitalocean.com/v2/sizes?per_page=200", headers: [("Authorization", "Bearer dop_v1_secret")])
        #expect("\(r)" == "GET https://api.digitalocean.com/v2/sizes?per_page=200")
    }

    @Test func retryAfterAcceptsSecondsAndHTTPDates() {
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        #expect(RetryPolicy.retryAfterSeconds("7", now: now) == 7)
        #expect(RetryPolicy.retryAfterSeconds("Tue, 14 Nov 2023 22:13:40 GMT", now: now) == 20)
        #expect(RetryPolicy.retryAfterSeconds("soon", now: now) == nil)
    }

    @Test func aRetryAfterLongerThanTheCapFailsAtOnce() throws {
        let server = try FixtureServer([.init(path: "/x", responses: [.init(status: 503, headers: ["Retry-After": "3600"], body: "")])])
        defer { server.stop() }
        #expect {
            try testClient().send(HTTPRequest(url: server.base + "/x"))
        } throws: { "\($0)".contains("asks to wait 3600 s") }
        #expect(server.requests().count == 1)
    }
}
