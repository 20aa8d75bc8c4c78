import Foundation

/// When and how long to wait before trying a request again.
public struct RetryPolicy: Sendable {
    /// Attempts in all, the first included.
    public var maxAttempts: Int
    /// Wait before the second attempt; doubled for each further one (with ±20 % jitter).
    public var baseDelay: Double
    /// Longest wait between attempts when the server does not say.
    public var maxDelay: Double
    /// Longest `Retry-After` honoured; a server asking for more gets a clear error instead of a hang.
    public var maxRetryAfter: Double

    public init(maxAttempts: Int = 4, baseDelay: Double = 0.5, maxDelay: Double = 30, maxRetryAfter: Double = 120) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.maxRetryAfter = maxRetryAfter
    }

    /// 429 (rate limited) and the 5xx statuses that mean "try later".
    public static func isRetryable(status: Int) -> Bool {
        status == 429 || status == 500 || status == 502 || status == 503 || status == 504
    }

    /// Backoff before attempt `attempt + 1` (attempt counts from 1).
    public func backoff(after attempt: Int) -> Double {
        let raw = baseDelay * pow(2, Double(attempt - 1))
        return min(maxDelay, raw) * Double.random(in: 0.8...1.2)
    }

    /// Seconds from a `Retry-After` value: delta-seconds or an HTTP-date; nil when unreadable.
    public static func retryAfterSeconds(_ value: String, now: Date = Date()) -> Double? {
        let v = value.trimmingCharacters(in: .whitespaces)
        if let n = Int(v), n >= 0 { return Double(n) }
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "GMT")
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = f.date(from: v) else { return nil }
        return max(0, date.timeIntervalSince(now))
    }
}
