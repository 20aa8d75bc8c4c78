import Foundation

/// One HTTP request as the pricing fetchers describe it; `HTTPClient` turns it into a libcurl transfer.
public struct HTTPRequest: Sendable, CustomStringConvertible {
    public var url: String
    public var method: Method
    /// Extra request headers, e.g. `("Authorization", "Bearer …")`. Never logged.
    public var headers: [(String, String)]
    public var body: [UInt8]?
    /// Sign with AWS Signature Version 4 (libcurl's `CURLOPT_AWS_SIGV4`).
    public var awsSigning: AWSSigning?
    /// Hand a 4xx or 5xx answer's body (up to 4 KiB) back as the response instead of retrying or
    /// throwing: APIs such as EC2's say in it which error happened (`InvalidGroup.NotFound`,
    /// `RequestLimitExceeded`), and the caller decides. Transport failures are still retried.
    public var returnsErrorBodies = false

    public enum Method: String, Sendable { case get = "GET", post = "POST", put = "PUT", delete = "DELETE" }

    public init(url: String, method: Method = .get, headers: [(String, String)] = [], body: [UInt8]? = nil,
                awsSigning: AWSSigning? = nil) {
        self.url = url
        self.method = method
        self.headers = headers
        self.body = body
        self.awsSigning = awsSigning
    }

    /// Method and redacted URL only: headers carry tokens.
    public var description: String { "\(method.rawValue) \(RedactedURL.describe(url))" }
}

/// What libcurl needs to sign a request with AWS Signature Version 4.
public struct AWSSigning: Sendable {
    /// `aws:amz:<region>:<service>`, e.g. `aws:amz:us-east-1:pricing`.
    public var provider: String
    public var credentials: AWSCredentials

    public init(provider: String, credentials: AWSCredentials) {
        self.provider = provider
        self.credentials = credentials
    }
}

/// AWS credentials from the environment. `description` never shows the secret.
public struct AWSCredentials: Sendable, CustomStringConvertible {
    public var accessKeyID: String
    public var secretAccessKey: String
    public var sessionToken: String?

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }

    /// `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` (and `AWS_SESSION_TOKEN` if set); nil when either is missing.
    public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment) -> AWSCredentials? {
        guard let id = env["AWS_ACCESS_KEY_ID"], !id.isEmpty,
              let secret = env["AWS_SECRET_ACCESS_KEY"], !secret.isEmpty else { return nil }
        let token = env["AWS_SESSION_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        return AWSCredentials(accessKeyID: id, secretAccessKey: secret, sessionToken: token)
    }

    /// The environment's credentials, else the profile `AWS_PROFILE` (or `default`) of the shared
    /// credentials file (`AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/credentials`); nil when neither has them.
    public static func standard(_ env: [String: String] = ProcessInfo.processInfo.environment) -> AWSCredentials? {
        if let c = fromEnvironment(env) { return c }
        let home = env["HOME"] ?? NSHomeDirectory()
        let path = env["AWS_SHARED_CREDENTIALS_FILE"].flatMap { $0.isEmpty ? nil : $0 } ?? "\(home)/.aws/credentials"
        guard let data = FileManager.default.contents(atPath: path), data.count <= 1 << 20 else { return nil }
        return fromCredentialsFile(String(decoding: data, as: UTF8.self), profile: env["AWS_PROFILE"].flatMap { $0.isEmpty ? nil : $0 } ?? "default")
    }

    /// The `[profile]` section of an AWS shared credentials file (INI: `key = value`, `#`/`;` comments).
    public static func fromCredentialsFile(_ text: String, profile: String) -> AWSCredentials? {
        var section = ""
        var values: [String: String] = [:]
        for raw in text.split(whereSeparator: \.isNewline).prefix(10_000) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("["), line.hasSuffix("]") {
                section = line.dropFirst().dropLast().trimmingCharacters(in: .whitespaces)
                continue
            }
            guard section == profile, let eq = line.firstIndex(of: "=") else { continue }
            values[line[..<eq].trimmingCharacters(in: .whitespaces).lowercased()] =
                line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
        }
        guard let id = values["aws_access_key_id"], !id.isEmpty,
              let secret = values["aws_secret_access_key"], !secret.isEmpty else { return nil }
        return AWSCredentials(accessKeyID: id, secretAccessKey: secret,
                              sessionToken: values["aws_session_token"].flatMap { $0.isEmpty ? nil : $0 })
    }

    public var description: String { "AWS credentials for access key \(accessKeyID.prefix(4))…" }
}
