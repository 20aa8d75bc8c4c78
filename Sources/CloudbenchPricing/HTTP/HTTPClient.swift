import CCurl
import CCurlShim
import Foundation

/// A small blocking HTTP client on libcurl: https only, deadlines, TLS verification, proxies from
/// the environment, gzip, retries with backoff on 429 and 5xx (honouring `Retry-After`), and
/// redirects followed by the client itself (`HTTPRedirect`): https only at every hop, and no
/// credentials sent on to another origin.
///
/// One easy handle per client, so paging reuses the connection. A client is used by one thread at a time.
public final class HTTPClient {
    /// Deadlines, retries and identity of every request this client makes.
    public struct Configuration: Sendable {
        /// Seconds to establish the TCP (and TLS) connection.
        public var connectTimeout: Double = 15
        /// Seconds for a whole small request, body included.
        public var totalTimeout: Double = 120
        /// Seconds for a streamed download (the AWS offer file is hundreds of MB).
        public var streamTimeout: Double = 1800
        /// A stream slower than `lowSpeedBytes` per second for `lowSpeedSeconds` is abandoned.
        public var lowSpeedBytes: Int = 1024
        public var lowSpeedSeconds: Int = 60
        public var retry = RetryPolicy()
        /// `cloudbench/<version> (+price refresh; libcurl/<version>)`.
        public var userAgent: String
        /// Largest in-memory body (one page of a pricing API).
        public var maxBodyBytes: Int = 64 << 20
        /// Plain http to a loopback address (127.0.0.0/8, ::1, localhost) is allowed, for the
        /// tests' fixture servers and a mirror given in the environment (`CLOUDBENCH_*_URL`). Off
        /// by default; only code sets it, never a catalog or inventory file. Other http is always refused.
        public var plainHTTPToLoopback = false

        public init(userAgent: String) { self.userAgent = userAgent }
    }

    public let configuration: Configuration
    private let handle: UnsafeMutableRawPointer
    private let errorBuffer: UnsafeMutablePointer<CChar>
    /// Called before each wait with the redacted URL, the status (0 for a transport error) and the seconds.
    public var onRetry: ((String, Int, Double) -> Void)?

    private static let globalInit: CURLcode = cb_curl_global_init()

    public init(configuration: Configuration) throws {
        guard HTTPClient.globalInit == CURLE_OK, let h = curl_easy_init() else {
            throw PricingError("libcurl could not be initialised; check that libcurl4 is installed")
        }
        self.configuration = configuration
        handle = h
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
    }

    deinit {
        curl_easy_cleanup(handle)
        errorBuffer.deallocate()
    }

    /// The libcurl version, e.g. `7.88.1`.
    public static var curlVersion: String {
        let full = String(cString: curl_version())  // "libcurl/7.88.1 OpenSSL/3.0.11 …"
        return full.split(separator: " ").first.map { String($0.dropFirst("libcurl/".count)) } ?? full
    }

    /// Sends `request` and returns the whole body of a 2xx response; anything else is a `PricingError`.
    public func send(_ request: HTTPRequest) throws -> HTTPResponse {
        var buffer: BufferingConsumer?
        let head = try stream(request, streaming: false) {
            let b = BufferingConsumer(limit: self.configuration.maxBodyBytes, url: RedactedURL.describe(request.url))
            buffer = b
            return b
        }
        return HTTPResponse(head: head, body: buffer?.bytes ?? [])
    }

    /// Sends `request` and hands a 2xx body to a fresh consumer from `makeConsumer` as it arrives.
    @discardableResult
    public func stream(_ first: HTTPRequest, streaming: Bool = true,
                       makeConsumer: @escaping () -> HTTPBodyConsumer) throws -> HTTPResponseHead {
        if let why = HTTPRedirect.refusal(first.url, plainHTTPToLoopback: configuration.plainHTTPToLoopback) { throw PricingError(why) }
        var request = first
        var shown = RedactedURL.describe(request.url)
        let policy = configuration.retry
        var attempt = 1, redirects = 0
        while true {
            let transfer = Transfer(makeConsumer: makeConsumer)
            let code = try perform(request, transfer: transfer, streaming: streaming)
            if let error = transfer.error { throw error }
            let detail = String(cString: errorBuffer)
            if code != CURLE_OK {
                let transient = [CURLE_OPERATION_TIMEDOUT, CURLE_COULDNT_CONNECT, CURLE_GOT_NOTHING, CURLE_RECV_ERROR,
                                 CURLE_SEND_ERROR, CURLE_PARTIAL_FILE, CURLE_COULDNT_RESOLVE_HOST].contains(code)
                let message = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
                // Each attempt gets a fresh consumer, so a transfer cut off halfway is safely started over.
                if transient && attempt < policy.maxAttempts {
                    let wait = policy.backoff(after: attempt)
                    onRetry?(shown, 0, wait)
                    Thread.sleep(forTimeInterval: wait)
                    attempt += 1
                    continue
                }
                throw PricingError("cannot fetch \(shown): \(message)" + (attempt > 1 ? " (after \(attempt) attempts)" : "")
                    + Self.hint(for: code))
            }
            let status = transfer.status
            if [301, 302, 303, 307, 308].contains(status), let location = transfer.headers["location"] {
                redirects += 1
                guard redirects <= HTTPRedirect.maxRedirects else {
                    throw PricingError("\(RedactedURL.describe(first.url)) redirected more than \(HTTPRedirect.maxRedirects) times")
                }
                request = try HTTPRedirect.follow(request, status: status, location: location,
                                                  plainHTTPToLoopback: configuration.plainHTTPToLoopback)
                shown = RedactedURL.describe(request.url)
                continue
            }
            let head = HTTPResponseHead(status: status, headers: transfer.headers, url: shown)
            if (200..<300).contains(status) {
                try transfer.consumer?.finish()
                return head
            }
            if request.returnsErrorBodies && (400..<600).contains(status) {
                let consumer = makeConsumer()
                try transfer.errorBody.withUnsafeBytes { try consumer.consume($0) }
                return head
            }
            if RetryPolicy.isRetryable(status: status) && attempt < policy.maxAttempts {
                var wait = policy.backoff(after: attempt)
                if let ra = transfer.headers["retry-after"], let seconds = RetryPolicy.retryAfterSeconds(ra) {
                    guard seconds <= policy.maxRetryAfter else {
                        throw PricingError("\(shown) answered HTTP \(status) and asks to wait \(String(format: "%.0f", seconds)) s before retrying; try again later")
                    }
                    wait = seconds
                }
                onRetry?(shown, status, wait)
                Thread.sleep(forTimeInterval: wait)
                attempt += 1
                continue
            }
            let excerpt = Self.excerpt(transfer.errorBody)
            let tries = attempt > 1 ? " after \(attempt) attempts" : ""
            throw PricingError("\(shown) answered HTTP \(status)\(tries)" + (excerpt.isEmpty ? "" : ": \(excerpt)")
                + Self.hint(forStatus: status))
        }
    }

    private static func hint(for code: CURLcode) -> String {
        switch code {
        case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE, CURLE_SSL_CONNECT_ERROR:
            return "; the TLS certificate could not be verified (check the system CA certificates or your proxy)"
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY:
            return "; check the network, the proxy settings (https_proxy) or the CLOUDBENCH_*_URL override"
        case CURLE_OPERATION_TIMEDOUT:
            return "; the server or the network is too slow, try again later"
        default: return ""
        }
    }

    private static func hint(forStatus status: Int) -> String {
        switch status {
        case 401, 403: return " (the credentials were refused; check them)"
        case 429: return " (rate limited; try again later)"
        case 500...599: return " (the service is failing; try again later)"
        default: return ""
        }
    }

    /// The first line of an error body, trimmed to 200 characters.
    static func excerpt(_ bytes: [UInt8]) -> String {
        let text = String(decoding: bytes.prefix(400), as: UTF8.self)
            .replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " ")
            .trimmingCharacters(in: .whitespaces)
        return text.count > 200 ? String(text.prefix(200)) + "…" : text
    }

    private func perform(_ request: HTTPRequest, transfer: Transfer, streaming: Bool) throws -> CURLcode {
        curl_easy_reset(handle)
        errorBuffer[0] = 0
        var headerList: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(headerList) }
        let c = configuration
        try set(CURLOPT_URL, request.url)
        try set(CURLOPT_ERRORBUFFER, pointer: UnsafeMutableRawPointer(errorBuffer))
        try set(CURLOPT_NOSIGNAL, 1)
        // https only (plain http to loopback when allowed, checked by `HTTPRedirect.refusal`);
        // redirects are followed by `stream`, which checks every hop and drops credentials.
        try set(CURLOPT_PROTOCOLS_STR, c.plainHTTPToLoopback ? "http,https" : "https")
        try set(CURLOPT_REDIR_PROTOCOLS_STR, "https")
        try set(CURLOPT_FOLLOWLOCATION, 0)
        try set(CURLOPT_UNRESTRICTED_AUTH, 0)
        // Verification is libcurl's default; say it so no later edit turns it off by accident.
        try set(CURLOPT_SSL_VERIFYPEER, 1)
        try set(CURLOPT_SSL_VERIFYHOST, 2)
        try set(CURLOPT_CONNECTTIMEOUT_MS, Int(c.connectTimeout * 1000))
        try set(CURLOPT_TIMEOUT_MS, Int((streaming ? c.streamTimeout : c.totalTimeout) * 1000))
        try set(CURLOPT_LOW_SPEED_LIMIT, c.lowSpeedBytes)
        try set(CURLOPT_LOW_SPEED_TIME, c.lowSpeedSeconds)
        // "" = every encoding this libcurl decodes (gzip, deflate, br, zstd).
        try set(CURLOPT_ACCEPT_ENCODING, "")
        try set(CURLOPT_USERAGENT, c.userAgent)
        // libcurl reads http_proxy/https_proxy/no_proxy itself; a loopback mirror is never proxied.
        try set(CURLOPT_NOPROXY, Self.noProxy())
        for (name, value) in request.headers + [("Expect", "")] {
            headerList = curl_slist_append(headerList, value.isEmpty ? "\(name):" : "\(name): \(value)")
        }
        if let signing = request.awsSigning {
            try set(CURLOPT_AWS_SIGV4, signing.provider)
            try set(CURLOPT_USERNAME, signing.credentials.accessKeyID)
            try set(CURLOPT_PASSWORD, signing.credentials.secretAccessKey)
            if let token = signing.credentials.sessionToken {
                headerList = curl_slist_append(headerList, "x-amz-security-token: \(token)")
            }
        }
        try set(CURLOPT_HTTPHEADER, pointer: UnsafeMutableRawPointer(headerList))
        // PUT and DELETE (the provisioning APIs): libcurl's custom method, with the body as for POST.
        if request.method == .put || request.method == .delete {
            try set(CURLOPT_CUSTOMREQUEST, request.method.rawValue)
        }
        if request.method == .post || request.method == .put || (request.method == .delete && request.body != nil) {
            let body = request.body ?? []
            try check(cb_curl_setopt_off_t(handle, CURLOPT_POSTFIELDSIZE_LARGE, Int64(body.count)), CURLOPT_POSTFIELDSIZE_LARGE)
            try body.withUnsafeBufferPointer { buf in
                // COPYPOSTFIELDS copies, so the Swift array need not outlive this call.
                let p = UnsafeMutableRawPointer(mutating: buf.baseAddress ?? UnsafePointer(bitPattern: 1)!)
                try set(CURLOPT_COPYPOSTFIELDS, pointer: p)
            }
        }
        let unmanaged = Unmanaged.passRetained(transfer)
        defer { unmanaged.release() }
        try check(cb_curl_setopt_write_function(handle, writeCallback), CURLOPT_WRITEFUNCTION)
        try set(CURLOPT_WRITEDATA, pointer: unmanaged.toOpaque())
        try check(cb_curl_setopt_header_function(handle, headerCallback), CURLOPT_HEADERFUNCTION)
        try set(CURLOPT_HEADERDATA, pointer: unmanaged.toOpaque())
        return curl_easy_perform(handle)
    }

    /// `no_proxy` from the environment plus the loopback names.
    static func noProxy() -> String {
        let env = ProcessInfo.processInfo.environment
        let user = env["no_proxy"] ?? env["NO_PROXY"] ?? ""
        if user == "*" { return "*" }
        return ([user, "127.0.0.1", "localhost", "::1"].filter { !$0.isEmpty }).joined(separator: ",")
    }

    private func set(_ option: CURLoption, _ value: String) throws {
        try check(cb_curl_setopt_string(handle, option, value), option)
    }

    private func set(_ option: CURLoption, _ value: Int) throws {
        try check(cb_curl_setopt_long(handle, option, value), option)
    }

    private func set(_ option: CURLoption, pointer: UnsafeMutableRawPointer?) throws {
        try check(cb_curl_setopt_pointer(handle, option, pointer), option)
    }

    private func check(_ code: CURLcode, _ option: CURLoption) throws {
        guard code == CURLE_OK else {
            throw PricingError("libcurl \(HTTPClient.curlVersion) refused option \(option.rawValue): "
                + String(cString: curl_easy_strerror(code)) + "; a newer libcurl is needed")
        }
    }
}

/// The state of one attempt, reached from libcurl's callbacks through their user-data pointer.
final class Transfer {
    var status = 0
    var headers: [String: String] = [:]
    var errorBody: [UInt8] = []
    var consumer: HTTPBodyConsumer?
    var error: Error?
    let makeConsumer: () -> HTTPBodyConsumer

    init(makeConsumer: @escaping () -> HTTPBodyConsumer) {
        self.makeConsumer = makeConsumer
    }

    func header(_ line: String) {
        let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.hasPrefix("HTTP/") {
            // A new response (after a redirect or a 100 Continue): forget the previous headers.
            headers = [:]
            let parts = trimmed.split(separator: " ")
            status = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
        } else if let colon = trimmed.firstIndex(of: ":") {
            let name = trimmed[..<colon].lowercased()
            headers[name] = trimmed[trimmed.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
    }

    /// Returns false to make libcurl abort the transfer.
    func body(_ bytes: UnsafeRawBufferPointer) -> Bool {
        if (200..<300).contains(status) {
            do {
                if consumer == nil { consumer = makeConsumer() }
                try consumer!.consume(bytes)
            } catch {
                self.error = error
                return false
            }
        } else if errorBody.count < 4096 {
            errorBody.append(contentsOf: bytes.prefix(4096 - errorBody.count))
        }
        return true
    }
}

private let writeCallback: @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int = {
    data, size, count, context in
    guard let context else { return 0 }
    let transfer = Unmanaged<Transfer>.fromOpaque(context).takeUnretainedValue()
    let n = size * count
    let ok = transfer.body(UnsafeRawBufferPointer(start: data, count: n))
    return ok ? n : 0
}

private let headerCallback: @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int = {
    data, size, count, context in
    guard let context, let data else { return 0 }
    let transfer = Unmanaged<Transfer>.fromOpaque(context).takeUnretainedValue()
    let n = size * count
    let line = String(decoding: UnsafeRawBufferPointer(start: data, count: n), as: UTF8.self)
    transfer.header(line)
    return n
}
