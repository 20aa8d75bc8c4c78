import Foundation

/// Where each pricing API lives. The scheme-and-host part of each can be overridden from the
/// environment (for tests and mirrors); the APIs' own paths stay the same.
public struct PriceEndpoints: Sendable {
    public var azure: String
    public var aws: String
    /// The AWS Price List Query API; follows `aws` when that is overridden.
    public var awsQuery: String
    public var digitalOcean: String
    /// True for each API whose origin came from the environment.
    public var overridden: Set<String>

    public static let azureDefault = "https://prices.azure.com"
    public static let awsDefault = "https://pricing.us-east-1.amazonaws.com"
    public static let awsQueryDefault = "https://api.pricing.us-east-1.amazonaws.com"
    public static let digitalOceanDefault = "https://api.digitalocean.com"

    public init(azure: String = azureDefault, aws: String = awsDefault, awsQuery: String = awsQueryDefault,
                digitalOcean: String = digitalOceanDefault, overridden: Set<String> = []) {
        self.azure = azure
        self.aws = aws
        self.awsQuery = awsQuery
        self.digitalOcean = digitalOcean
        self.overridden = overridden
    }

    /// `CLOUDBENCH_AZURE_PRICES_URL`, `CLOUDBENCH_AWS_PRICES_URL` (both AWS APIs) and
    /// `CLOUDBENCH_DIGITALOCEAN_API_URL`, e.g. `http://127.0.0.1:8080`: https, or plain http to
    /// a loopback address only (a local mirror or a test's fixture server).
    public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment) throws -> PriceEndpoints {
        var e = PriceEndpoints()
        func origin(_ name: String) throws -> String? {
            guard let v = env[name], !v.isEmpty else { return nil }
            guard let o = RedactedURL.origin(v), o.hasPrefix("http://") || o.hasPrefix("https://") else {
                throw PricingError("\(name)='\(RedactedURL.describe(v))' is not an http(s) address such as http://127.0.0.1:8080", input: true)
            }
            if let why = HTTPRedirect.refusal(o, plainHTTPToLoopback: true) {
                throw PricingError("\(name): \(why) (plain http only to a loopback address)", input: true)
            }
            return o
        }
        if let o = try origin("CLOUDBENCH_AZURE_PRICES_URL") { e.azure = o; e.overridden.insert("azure") }
        if let o = try origin("CLOUDBENCH_AWS_PRICES_URL") { e.aws = o; e.awsQuery = o; e.overridden.insert("aws") }
        if let o = try origin("CLOUDBENCH_DIGITALOCEAN_API_URL") { e.digitalOcean = o; e.overridden.insert("digitalocean") }
        return e
    }

    /// Whether the client may use plain http to loopback: only for origins from the environment.
    public var plainHTTPToLoopback: Bool { !overridden.isEmpty }

    /// A paging link from `api` rebased onto `base`, so that a mirror's or the real API's absolute
    /// `next` links never lead anywhere but the origin in use (and a bearer token never leaves it).
    static func follow(_ link: String, base: String) throws -> String {
        if link.hasPrefix("/") { return base + link }
        guard let rebased = RedactedURL.rebase(link, onto: base) else {
            throw PricingError("the next-page link '\(RedactedURL.describe(link))' is not a URL; the API answer is malformed")
        }
        return rebased
    }
}
