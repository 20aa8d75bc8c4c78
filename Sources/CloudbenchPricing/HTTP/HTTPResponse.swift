import Foundation

/// The status line and headers of a response (headers keyed by lower-case name; the last value wins).
public struct HTTPResponseHead: Sendable {
    public var status: Int
    public var headers: [String: String]
    /// The URL the body came from, after any redirects (redacted for messages).
    public var url: String

    public init(status: Int, headers: [String: String], url: String) {
        self.status = status
        self.headers = headers
        self.url = url
    }
}

/// A whole response held in memory: only for the small JSON pages of the pricing APIs.
public struct HTTPResponse: Sendable {
    public var head: HTTPResponseHead
    public var body: [UInt8]

    public var status: Int { head.status }
}

/// Receives a successful response's body chunk by chunk, as libcurl delivers it.
///
/// A fresh consumer is made for every attempt, so a retried transfer never sees half of an earlier one.
public protocol HTTPBodyConsumer: AnyObject {
    func consume(_ bytes: UnsafeRawBufferPointer) throws
    /// Called once the whole body has arrived.
    func finish() throws
}

/// Keeps the body in memory, refusing more than `limit` bytes.
final class BufferingConsumer: HTTPBodyConsumer {
    var bytes: [UInt8] = []
    let limit: Int
    let url: String

    init(limit: Int, url: String) {
        self.limit = limit
        self.url = url
    }

    func consume(_ chunk: UnsafeRawBufferPointer) throws {
        guard bytes.count + chunk.count <= limit else {
            throw PricingError("\(url) sent more than \(limit / 1_000_000) MB; that is not a pricing API page (check the URL or the CLOUDBENCH_*_URL override)")
        }
        bytes.append(contentsOf: chunk)
    }

    func finish() throws {}
}
