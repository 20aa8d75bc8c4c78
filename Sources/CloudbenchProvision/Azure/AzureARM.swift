import CloudbenchPricing
import Foundation

/// A service principal's credentials (`AZURE_TENANT_ID`, `AZURE_CLIENT_ID`, `AZURE_CLIENT_SECRET`,
/// `AZURE_SUBSCRIPTION_ID`). `description` never shows the secret.
public struct AzureCredentials: Sendable, CustomStringConvertible {
    public var tenantID: String
    public var clientID: String
    public var clientSecret: String
    public var subscriptionID: String

    public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment) -> AzureCredentials? {
        func v(_ k: String) -> String? { env[k].flatMap { $0.isEmpty ? nil : $0 } }
        guard let t = v("AZURE_TENANT_ID"), let c = v("AZURE_CLIENT_ID"), let s = v("AZURE_CLIENT_SECRET"),
              let sub = v("AZURE_SUBSCRIPTION_ID") else { return nil }
        return AzureCredentials(tenantID: t, clientID: c, clientSecret: s, subscriptionID: sub)
    }

    public var description: String { "Azure service principal \(clientID) in tenant \(tenantID)" }
}

/// Azure Resource Manager with an OAuth2 client-credentials token from
/// `login.microsoftonline.com/{tenant}/oauth2/v2.0/token` (scope `https://management.azure.com/.default`),
/// renewed five minutes before it expires. Long-running operations are polled through
/// `Azure-AsyncOperation` (else `Location`) with a deadline, at the `Retry-After` they ask for.
///
/// `CLOUDBENCH_AZURE_ARM_URL` and `CLOUDBENCH_AZURE_LOGIN_URL` replace the two hosts. Operation
/// and paging URLs are always followed on the ARM origin, so the token goes nowhere else.
public final class AzureARM {
    public let base: String
    public let login: String
    /// The ARM URL came from `CLOUDBENCH_AZURE_ARM_URL` (a test's loopback fake): plain http to
    /// loopback is then allowed for the URLs ARM hands out (the serial log's SAS URL).
    public let armOverridden: Bool
    public let subscription: String
    let rest: RESTClient
    private let tokenClient: RESTClient
    private let credentials: AzureCredentials
    private var token: (value: String, expires: Date)?
    /// Seconds between polls of an operation that does not say (`Retry-After`), and the most any poll waits.
    public var defaultPoll: Double = 5
    public var maxPoll: Double = 30
    public var maxPages = 100
    /// Checked between polls: a signal stops a long wait (the engine then deletes the group).
    public var cancelled: @Sendable () -> Bool = { false }

    public static let resourcesAPI = "2021-04-01"
    public static let networkAPI = "2023-09-01"
    public static let computeAPI = "2023-09-01"
    public static let skusAPI = "2021-07-01"

    public init(credentials: AzureCredentials, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        func url(_ k: String, _ d: String) -> String {
            var b = environment[k].flatMap { $0.isEmpty ? nil : $0 } ?? d
            while b.hasSuffix("/") { b.removeLast() }
            return b
        }
        base = url("CLOUDBENCH_AZURE_ARM_URL", "https://management.azure.com")
        login = url("CLOUDBENCH_AZURE_LOGIN_URL", "https://login.microsoftonline.com")
        subscription = credentials.subscriptionID
        self.credentials = credentials
        let agent = "cloudbench (+provision; libcurl/\(HTTPClient.curlVersion))"
        func overridden(_ k: String) -> Bool { !(environment[k] ?? "").isEmpty }
        armOverridden = overridden("CLOUDBENCH_AZURE_ARM_URL")
        tokenClient = try RESTClient(service: "Azure login", userAgent: agent,
                                     plainHTTPToLoopback: overridden("CLOUDBENCH_AZURE_LOGIN_URL"), authorization: { nil })
        rest = try RESTClient(service: "Azure", userAgent: agent,
                              plainHTTPToLoopback: overridden("CLOUDBENCH_AZURE_ARM_URL"), authorization: { nil })
        rest.authorization = { [unowned self] in "Bearer \(try self.accessToken())" }
    }

    public var calls: [String: Int] {
        rest.calls.merging(tokenClient.calls, uniquingKeysWith: +)
    }

    func accessToken() throws -> String {
        if let t = token, t.expires.timeIntervalSinceNow > 300 { return t.value }
        let form = [("grant_type", "client_credentials"), ("client_id", credentials.clientID),
                    ("client_secret", credentials.clientSecret), ("scope", "https://management.azure.com/.default")]
            .map { "\($0.0)=\(Self.formEncode($0.1))" }.joined(separator: "&")
        let tenant = Self.formEncode(credentials.tenantID)
        let reply = try tokenClient.call("GetToken", .post, "\(login)/\(tenant)/oauth2/v2.0/token", body: Array(form.utf8),
                                         contentType: "application/x-www-form-urlencoded")
        guard let value = reply.object["access_token"] as? String, !value.isEmpty else {
            throw ProvisionError("Azure login answered without an access_token")
        }
        let seconds = (reply.object["expires_in"] as? Int) ?? Int(reply.object["expires_in"] as? String ?? "") ?? 3600
        token = (value, Date().addingTimeInterval(Double(min(max(seconds, 60), 86_400))))
        return value
    }

    static func formEncode(_ s: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s
    }

    /// `/subscriptions/SUB/resourceGroups/RG` (+ `suffix`).
    public func groupPath(_ group: String, _ suffix: String = "") -> String {
        "/subscriptions/\(subscription)/resourceGroups/\(group)\(suffix)"
    }

    func url(_ path: String, api: String) -> String {
        base + path + (path.contains("?") ? "&" : "?") + "api-version=\(api)"
    }

    @discardableResult
    func call(_ action: String, _ method: HTTPRequest.Method, _ path: String, api: String, body: Any? = nil,
              accept: Set<Int> = []) throws -> RESTClient.Reply {
        try rest.call(action, method, url(path, api: api), body: body, accept: accept)
    }

    /// A PUT that may run long: returns once the operation has succeeded, else throws its error.
    @discardableResult
    func put(_ action: String, _ path: String, api: String, body: [String: Any], deadline: Double) throws -> [String: Any] {
        let reply = try call(action, .put, path, api: api, body: body)
        if let op = reply.headers["azure-asyncoperation"] ?? (reply.status == 202 ? reply.headers["location"] : nil) {
            try wait(action, operation: op, first: reply, deadline: deadline)
            return try call(action.replacingOccurrences(of: "Create", with: "Get"), .get, path, api: api).object
        }
        let state = (reply.object["properties"] as? [String: Any])?["provisioningState"] as? String
        if state == nil || state == "Succeeded" { return reply.object }
        // No operation header: poll the resource itself until its provisioningState settles.
        let end = Date().addingTimeInterval(deadline)
        while true {
            try checkCancelled()
            Thread.sleep(forTimeInterval: pause(reply.headers))
            let now = try call(action.replacingOccurrences(of: "Create", with: "Get"), .get, path, api: api).object
            let s = (now["properties"] as? [String: Any])?["provisioningState"] as? String ?? "?"
            if s == "Succeeded" { return now }
            if s == "Failed" || s == "Canceled" { throw ProvisionError("Azure \(action): provisioning \(s)") }
            guard Date() < end else { throw ProvisionError("Azure \(action) had not finished after \(Int(deadline)) s") }
        }
    }

    /// Polls an `Azure-AsyncOperation` (status body) or `Location` (202 until done) URL until it ends.
    func wait(_ action: String, operation: String, first: RESTClient.Reply, deadline: Double) throws {
        guard let u = RedactedURL.rebase(operation, onto: base) else { throw ProvisionError("Azure \(action): bad operation URL") }
        let end = Date().addingTimeInterval(deadline)
        var headers = first.headers
        while true {
            try checkCancelled()
            Thread.sleep(forTimeInterval: pause(headers))
            let r = try rest.call(action + "Status", .get, u)
            headers = r.headers
            if let status = r.object["status"] as? String {
                switch status {
                case "Succeeded": return
                case "Failed", "Canceled":
                    let e = r.object["error"] as? [String: Any]
                    throw ProvisionError("Azure \(action) \(status.lowercased())" + (e.map { ": \($0["code"] as? String ?? "") \($0["message"] as? String ?? "")" } ?? ""))
                default: break
                }
            } else if r.status != 202 {
                return
            }
            guard Date() < end else { throw ProvisionError("Azure \(action) had not finished after \(Int(deadline)) s") }
        }
    }

    func checkCancelled() throws {
        if cancelled() { throw ProvisionError("stopped by a signal", status: 130) }
    }

    func pause(_ headers: [String: String]) -> Double {
        let asked = headers["retry-after"].flatMap { RetryPolicy.retryAfterSeconds($0) } ?? defaultPoll
        return min(max(asked, 0.2), maxPoll)
    }

    /// Every item of `value` over the pages of `path` (`nextLink`).
    func list(_ action: String, _ path: String, api: String) throws -> [[String: Any]] {
        var next: String? = url(path, api: api)
        var out: [[String: Any]] = []
        var pages = 0
        while let u = next {
            pages += 1
            guard pages <= maxPages else { throw ProvisionError("Azure \(action): more than \(maxPages) pages; stopped") }
            let r = try rest.call(action, .get, u)
            out += r.object["value"] as? [[String: Any]] ?? []
            next = (r.object["nextLink"] as? String).flatMap { RedactedURL.rebase($0, onto: base) }
        }
        return out
    }
}
