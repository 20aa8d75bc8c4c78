import CloudbenchCore
import CloudbenchPricing
import Foundation

/// The EC2 Query API over libcurl (`HTTPClient`), signed with SigV4: one `call` per action,
/// the XML answer as a tree, throttling retried with backoff, every other API error thrown as `EC2Error`.
///
/// `CLOUDBENCH_AWS_EC2_URL` replaces `https://ec2.REGION.amazonaws.com/` (the signature keeps the region).
public final class EC2Client {
    public static let apiVersion = "2016-11-15"
    public let region: String
    public let endpoint: String
    private let http: HTTPClient
    private let signing: AWSSigning
    /// Attempts for a throttled call (`RequestLimitExceeded`), the first included.
    public var throttleAttempts = 8
    public var retry = RetryPolicy(maxAttempts: 8, baseDelay: 1, maxDelay: 20)
    /// Action → number of calls made, throttled retries included (the closing note counts them).
    public private(set) var calls: [String: Int] = [:]

    public init(region: String, credentials: AWSCredentials, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        self.region = region
        if let url = environment["CLOUDBENCH_AWS_EC2_URL"], !url.isEmpty { endpoint = url } else { endpoint = "https://ec2.\(region).amazonaws.com/" }
        var config = HTTPClient.Configuration(userAgent: "cloudbench (+provision; libcurl/\(HTTPClient.curlVersion))")
        config.totalTimeout = 60
        config.maxBodyBytes = 32 << 20
        // A local endpoint (moto, in the tests) may be plain http on loopback; the real one is https.
        config.plainHTTPToLoopback = environment["CLOUDBENCH_AWS_EC2_URL"].map { !$0.isEmpty } ?? false
        http = try HTTPClient(configuration: config)
        signing = AWSSigning(provider: "aws:amz:\(region):ec2", credentials: credentials)
    }

    /// Calls `action` with `parameters` (already flattened: `Filter.1.Name`, …) and returns the answer's root.
    @discardableResult
    public func call(_ action: String, _ parameters: [(String, String)] = []) throws -> XMLNode {
        var attempt = 1
        while true {
            calls[action, default: 0] += 1
            let body = ([("Action", action), ("Version", Self.apiVersion)] + parameters)
                .map { "\(Self.encode($0.0))=\(Self.encode($0.1))" }.joined(separator: "&")
            var request = HTTPRequest(url: endpoint, method: .post,
                                      headers: [("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")],
                                      body: Array(body.utf8), awsSigning: signing)
            request.returnsErrorBodies = true
            let response: HTTPResponse
            do {
                response = try http.send(request)
            } catch let e as PricingError {
                throw EC2Error(action: action, code: "Transport", message: e.message)
            }
            guard let root = XMLNode.parse(response.body) else {
                throw EC2Error(action: action, code: "BadResponse",
                               message: "\(endpoint) answered HTTP \(response.status) with something that is not EC2's XML; check CLOUDBENCH_AWS_EC2_URL")
            }
            if (200..<300).contains(response.status) { return root }
            let error = root.child("Errors")?.child("Error") ?? root.child("Error")
            let code = error?.value("Code") ?? "HTTP\(response.status)"
            let message = error?.value("Message") ?? ""
            if EC2Error.throttling.contains(code) && attempt < throttleAttempts {
                Thread.sleep(forTimeInterval: retry.backoff(after: attempt))
                attempt += 1
                continue
            }
            throw EC2Error(action: action, code: code, message: message)
        }
    }

    /// RFC 3986 percent-encoding, as SigV4 and the Query API expect.
    static func encode(_ s: String) -> String {
        var out = ""
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                out.append(Character(UnicodeScalar(b)))
            default:
                out += String(format: "%%%02X", b)
            }
        }
        return out
    }

    /// `Prefix.1 = a, Prefix.2 = b`.
    public static func list(_ prefix: String, _ values: [String]) -> [(String, String)] {
        values.enumerated().map { ("\(prefix).\($0.offset + 1)", $0.element) }
    }

    /// `Filter.N.Name` / `Filter.N.Value.M`.
    public static func filters(_ filters: [(String, [String])]) -> [(String, String)] {
        filters.enumerated().flatMap { i, f in
            [("Filter.\(i + 1).Name", f.0)] + list("Filter.\(i + 1).Value", f.1)
        }
    }

    /// `TagSpecification.N.ResourceType` and its tags, one spec per resource type.
    public static func tagSpecifications(_ types: [String], tags: [(String, String)]) -> [(String, String)] {
        types.enumerated().flatMap { i, type -> [(String, String)] in
            let p = "TagSpecification.\(i + 1)"
            return [("\(p).ResourceType", type)] + tags.enumerated().flatMap { j, t in
                [("\(p).Tag.\(j + 1).Key", t.0), ("\(p).Tag.\(j + 1).Value", t.1)]
            }
        }
    }
}

/// An error EC2 answered (or a transport failure), naming the action and EC2's code.
public struct EC2Error: Error, CustomStringConvertible, Sendable {
    public var action: String
    public var code: String
    public var message: String

    static let throttling: Set<String> = ["RequestLimitExceeded", "Throttling", "ThrottlingException", "RequestThrottled",
                                          "InternalError", "Unavailable", "ServiceUnavailable"]

    /// Codes meaning the thing is already gone, so a delete that meets them succeeded.
    public var isNotFound: Bool {
        code.hasSuffix(".NotFound") || code.hasSuffix(".Unknown")
    }

    public var description: String {
        var hint = ""
        if code == "AuthFailure" || code == "UnauthorizedOperation" || code.hasPrefix("InvalidClientTokenId") || code == "SignatureDoesNotMatch" {
            hint = "; check the AWS credentials (environment or ~/.aws/credentials) and the IAM policy in docs/provision.md"
        }
        return "EC2 \(action) failed: \(code)" + (message.isEmpty ? "" : ": \(message)") + hint
    }
}

extension EC2Error: UserFacingError {
    public var exitStatus: ExitStatus { .failures }
}
