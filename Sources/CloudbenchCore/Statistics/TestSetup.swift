/// A test's own knobs, as far as they change its figure: direction, stream count, message
/// size, UDP offered rate, HTTP object size. Part of a cell's identity, so an 8-stream run is
/// never averaged with a 1-stream one.
///
/// Read from a record's `detail` (the agent writes `direction`, `streams`, `message_size`,
/// `target_bytes_per_second`, `size`; see docs/results.md). Where a record does not say:
/// `tcp_bw` and `udp_bw` mean one stream from client to server (every tool's default) and
/// `tcp_lat` a 1-byte ping-pong (qperf's and the agent's default); a message size, offered rate
/// or object size nobody recorded stays unknown (nil) and so never matches a known one.
public struct TestSetup: Hashable, Sendable, Comparable {
    /// `client_to_server`, `server_to_client` or `bidirectional`; nil for tests without one.
    public var direction: String?
    public var streams: Int?
    /// Bytes per write (bandwidth) or per ping-pong (latency).
    public var messageSize: Int?
    /// `udp_bw`'s offered rate, bytes per second; `udp_pps`'s, datagrams per second.
    public var udpRate: Double?
    /// `http`'s object size, bytes.
    public var httpSize: Int?
    /// `udp_bw` searched for its rate (`detail.udp_rate` is `"search"`): the offered rate differs
    /// between repetitions, so it is not part of the identity (`udpRate` is nil).
    public var udpRateSearch = false

    public init(direction: String? = nil, streams: Int? = nil, messageSize: Int? = nil, udpRate: Double? = nil,
                httpSize: Int? = nil, udpRateSearch: Bool = false) {
        self.direction = direction
        self.streams = streams
        self.messageSize = messageSize
        self.udpRate = udpRate
        self.httpSize = httpSize
        self.udpRateSearch = udpRateSearch
    }

    /// The knobs of `test` as `detail` records them, with the defaults above.
    public static func of(test: String, detail: JSONValue?) -> TestSetup {
        of(test: test, view: detail.map(JSONView.init))
    }

    /// The same read from a `detail` in place (`ResultRecord.detailView`).
    public static func of(test: String, view detail: JSONView?) -> TestSetup {
        func int(_ key: String) -> Int? {
            guard let x = detail?[key]?.double, x.isFinite, x >= 0, x <= 1e15 else { return nil }
            return Int(x)
        }
        func rate(_ key: String) -> Double? {
            guard let x = detail?[key]?.double, x.isFinite, x >= 0 else { return nil }
            return x
        }
        let direction = detail?["direction"]?.string
        switch test {
        case "tcp_bw":
            return TestSetup(direction: direction ?? "client_to_server", streams: int("streams") ?? 1, messageSize: int("message_size"))
        case "udp_bw":
            if detail?["udp_rate"]?.string == "search" {
                return TestSetup(direction: direction ?? "client_to_server", streams: int("streams") ?? 1,
                                 messageSize: int("message_size"), udpRateSearch: true)
            }
            return TestSetup(direction: direction ?? "client_to_server", streams: int("streams") ?? 1, messageSize: int("message_size"),
                             udpRate: rate("target_bytes_per_second") ?? rate("udp_rate"))
        case "udp_pps":
            // The offer in datagrams per second and the payload size are what make a cell.
            return TestSetup(direction: direction ?? "client_to_server", streams: int("streams") ?? 1, messageSize: int("message_size"),
                             udpRate: detail?["udp_rate"]?.string == "search" ? nil : rate("target_packets_per_second"),
                             udpRateSearch: detail?["udp_rate"]?.string == "search")
        case "tcp_crr":
            return TestSetup(messageSize: int("message_size") ?? 1)
        case "tcp_lat", "udp_lat":
            return TestSetup(messageSize: int("message_size") ?? 1)
        case "http":
            return TestSetup(httpSize: int("size") ?? int("http_size"))
        default:
            return TestSetup(direction: direction, streams: int("streams"), messageSize: int("message_size"))
        }
    }

    /// Only the knobs `detail` states, with no defaults: what a failed record (which often has
    /// no measurement, so no `detail`) can be matched on.
    public static func stated(test: String, detail: JSONValue?) -> TestSetup {
        stated(test: test, view: detail.map(JSONView.init))
    }

    /// The same read from a `detail` in place (`ResultRecord.detailView`).
    public static func stated(test: String, view detail: JSONView?) -> TestSetup {
        guard let detail else { return TestSetup() }
        let full = of(test: test, view: detail)
        return TestSetup(direction: detail["direction"] == nil ? nil : full.direction,
                         streams: detail["streams"] == nil ? nil : full.streams,
                         messageSize: detail["message_size"] == nil ? nil : full.messageSize,
                         udpRate: full.udpRate, httpSize: full.httpSize, udpRateSearch: full.udpRateSearch)
    }

    /// True when every knob this one states has the same value in `other`.
    public func agrees(with other: TestSetup) -> Bool {
        (direction == nil || direction == other.direction) && (streams == nil || streams == other.streams)
            && (messageSize == nil || messageSize == other.messageSize) && (udpRate == nil || udpRate == other.udpRate)
            && (httpSize == nil || httpSize == other.httpSize) && (!udpRateSearch || other.udpRateSearch)
    }

    /// True when no knob is known.
    public var isEmpty: Bool { self == TestSetup() }

    var order: (Int, String, Int, Double, Int, Int) {
        (streams ?? 0, direction ?? "", messageSize ?? -1, udpRate ?? -1, httpSize ?? -1, udpRateSearch ? 1 : 0)
    }

    public static func < (a: TestSetup, b: TestSetup) -> Bool { a.order < b.order }
}
