import CloudbenchCore
import CloudbenchPricing
import Foundation

/// JSON over HTTPS for the provisioning APIs that are not AWS's (DigitalOcean API v2, Azure
/// Resource Manager), on the same libcurl `HTTPClient` as the price refresh and EC2.
///
/// 429 waits what the API asks (`RateLimit-Reset`, an epoch second, or `Retry-After`), 5xx backs
/// off; both a bounded number of times. Every other answer outside 2xx is thrown as `RESTError`
/// unless the caller lists its status in `accept` (a delete that meets 404 found the thing gone).
///
/// The `Authorization` header comes from `authorization` for each attempt and is never part of a
/// message: errors name the action, the status, the API's error code and message, and the URL
/// with secret-looking query values redacted.
public final class RESTClient {
    public let service: String
    private let http: HTTPClient
    /// Attempts for one call on 429 or 5xx, the first included.
    public var attempts = 6
    public var retry = RetryPolicy(maxAttempts: 6, baseDelay: 1, maxDelay: 20)
    /// The longest single wait a 429 may ask for; a longer one fails the call.
    public var maxRateLimitWait: Double = 120
    /// The `Authorization` header's value for each attempt (`Bearer …`), nil for none.
    public var authorization: () throws -> String?
    /// Action → calls made, retries included (the run's record keeps them).
    public private(set) var calls: [String: Int] = [:]

    public struct Reply {
        public var status: Int
        public var headers: [String: String]
        /// The parsed JSON body; nil when empty.
        public var json: Any?
        /// The body as received (a non-JSON answer, such as a serial log).
        public var body: [UInt8]

        public var object: [String: Any] { json as? [String: Any] ?? [:] }
    }

    /// `plainHTTPToLoopback`: set only when the base URL comes from a `CLOUDBENCH_*_URL` override
    /// (the tests' loopback fakes); the client still refuses http to any other host.
    public init(service: String, userAgent: String, plainHTTPToLoopback: Bool = false,
                authorization: @escaping () throws -> String?) throws {
        self.service = service
        var config = HTTPClient.Configuration(userAgent: userAgent)
        config.plainHTTPToLoopback = plainHTTPToLoopback
        config.totalTimeout = 60
        config.maxBodyBytes = 16 << 20
        // Transport failures only (refused, reset): answers with a status are this client's to retry.
        config.retry = RetryPolicy(maxAttempts: 3, baseDelay: 1, maxDelay: 5)
        http = try HTTPClient(configuration: config)
        self.authorization = authorization
    }

    /// Sends one call; `body` is encoded as JSON (or sent as is when it is already `[UInt8]`).
    @discardableResult
    public func call(_ action: String, _ method: HTTPRequest.Method, _ url: String, body: Any? = nil,
                     contentType: String = "application/json", accept: Set<Int> = []) throws -> Reply {
        var payload: [UInt8]?
        if let raw = body as? [UInt8] {
            payload = raw
        } else if let body {
            payload = Array(try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys]))
        }
        var attempt = 1
        while true {
            calls[action, default: 0] += 1
            var headers: [(String, String)] = [("Accept", "application/json")]
            if payload != nil { headers.append(("Content-Type", contentType)) }
            if let auth = try authorization() { headers.append(("Authorization", auth)) }
            var request = HTTPRequest(url: url, method: method, headers: headers, body: payload)
            request.returnsErrorBodies = true
            let response: HTTPResponse
            do {
                response = try http.send(request)
            } catch let e as PricingError {
                throw RESTError(service: service, action: action, status: 0, code: "Transport", message: e.message)
            }
            let status = response.status
            let json: Any? = response.body.isEmpty ? nil : try? JSONSerialization.jsonObject(with: Data(response.body), options: [.fragmentsAllowed])
            if (200..<300).contains(status) || accept.contains(status) {
                return Reply(status: status, headers: response.head.headers, json: json, body: response.body)
            }
            let (code, message) = Self.error(in: json, raw: response.body)
            if (status == 429 || (500..<600).contains(status)) && attempt < attempts {
                var wait = retry.backoff(after: attempt)
                if let asked = Self.requestedWait(response.head.headers) {
                    guard asked <= maxRateLimitWait else {
                        throw RESTError(service: service, action: action, status: status, code: code,
                                        message: "asks to wait \(Int(asked)) s before retrying; try again later")
                    }
                    wait = max(0, asked)
                }
                Thread.sleep(forTimeInterval: wait)
                attempt += 1
                continue
            }
            throw RESTError(service: service, action: action, status: status, code: code,
                            message: message + (attempt > 1 ? " (after \(attempt) attempts)" : ""))
        }
    }

    /// Seconds a 429 or 503 asks to wait: `RateLimit-Reset` (DigitalOcean, epoch seconds) or `Retry-After`.
    static func requestedWait(_ headers: [String: String], now: Date = Date()) -> Double? {
        if let reset = headers["ratelimit-reset"].flatMap({ Double($0.trimmingCharacters(in: .whitespaces)) }),
           reset > 1_000_000_000, reset < 1e11 {
            return max(0, reset - now.timeIntervalSince1970)
        }
        if let ra = headers["retry-after"] { return RetryPolicy.retryAfterSeconds(ra, now: now) }
        return nil
    }

    /// DigitalOcean's `{"id": …, "message": …}` or ARM's `{"error": {"code": …, "message": …}}`.
    static func error(in json: Any?, raw: [UInt8]) -> (String, String) {
        let o = json as? [String: Any] ?? [:]
        if let e = o["error"] as? [String: Any] {
            return (e["code"] as? String ?? "", Self.short(e["message"] as? String ?? ""))
        }
        if let id = o["id"] as? String { return (id, Self.short(o["message"] as? String ?? "")) }
        if let e = o["error"] as? String { return (e, Self.short(o["error_description"] as? String ?? "")) }
        return ("", Self.short(String(decoding: raw.prefix(300), as: UTF8.self)))
    }

    static func short(_ s: String) -> String {
        let one = s.replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " ")
        return one.count > 300 ? String(one.prefix(300)) + "…" : one
    }
}

/// An answer outside 2xx from a provisioning API (or a transport failure: status 0).
public struct RESTError: Error, CustomStringConvertible, Sendable {
    public var service: String
    public var action: String
    public var status: Int
    public var code: String
    public var message: String

    public var description: String {
        var hint = ""
        if status == 401 || status == 403 {
            hint = "; check the credentials and the permissions in docs/provision.md"
        }
        let what = status == 0 ? "transport failure" : "HTTP \(status)"
        return "\(service) \(action) failed: \(what)" + (code.isEmpty ? "" : " \(code)") + (message.isEmpty ? "" : ": \(message)") + hint
    }
}

extension RESTError: UserFacingError {
    public var exitStatus: ExitStatus { .failures }
}
