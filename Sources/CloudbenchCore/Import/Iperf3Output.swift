import Foundation

/// Reads iperf3's `--json` output (one test, or several appended to one file).
///
/// Throughput is the receiver's: `end.sum_received.bytes / end.sum_received.seconds`, in MB/s
/// (10^6 bytes/s). An output with `error` becomes a failed measurement. The time is
/// `start.timestamp.timesecs`.
public enum Iperf3Output {
    public static func parse(_ text: String, file: String) throws -> [ImportedMeasurement] {
        let documents = try splitDocuments(text, file: file)
        guard !documents.isEmpty else {
            throw FileError(file, "no iperf3 JSON found; save iperf3's output with `iperf3 -c HOST -J > FILE`")
        }
        var out: [ImportedMeasurement] = []
        for (line, doc) in documents {
            let json: JSONValue
            do { json = try JSONValue.parse(doc) } catch {
                throw FileError(file, "line \(line): not valid JSON; expected iperf3's --json output")
            }
            guard case .object(let top) = json, top["start"] != nil || top["error"] != nil else {
                throw FileError(file, "line \(line): not iperf3 output (no 'start' or 'error'); expected iperf3's --json output")
            }
            let time = json["start"]?["timestamp"]?["timesecs"]?.double.map(Importer.isoTime)
            let udp = json["start"]?["test_start"]?["protocol"]?.string == "UDP"
            let test = udp ? "udp_bw" : "tcp_bw"
            if let err = json["error"]?.string {
                out.append(ImportedMeasurement(test: test, status: .failed, value: nil, unit: "MB/s",
                                               error: "iperf3: \(err)", time: time, detail: summaryDetail(json)))
                continue
            }
            let sum = udp ? json["end"]?["sum"] : json["end"]?["sum_received"]
            guard let bytes = sum?["bytes"]?.double, let seconds = sum?["seconds"]?.double, seconds > 0 else {
                throw FileError(file, "line \(line): iperf3 output has no end.sum_received bytes and seconds; was the test interrupted?")
            }
            out.append(ImportedMeasurement(test: test, status: .ok, value: bytes / seconds / 1e6, unit: "MB/s",
                                           time: time, detail: summaryDetail(json)))
        }
        return out
    }

    /// The parts of iperf3's output worth keeping with the record (not every interval).
    static func summaryDetail(_ json: JSONValue) -> JSONValue {
        var d: [String: JSONValue] = ["tool": .string("iperf3")]
        for (k, v) in [("version", json["start"]?["version"]), ("test_start", json["start"]?["test_start"]),
                       ("sum_sent", json["end"]?["sum_sent"]), ("sum_received", json["end"]?["sum_received"]),
                       ("sum", json["end"]?["sum"]),
                       ("cpu_utilization_percent", json["end"]?["cpu_utilization_percent"]),
                       ("sender_tcp_congestion", json["end"]?["sender_tcp_congestion"]), ("error", json["error"])] {
            if let v { d[k] = v }
        }
        // The knobs reports tell cells apart by (docs/results.md), as iperf3 states them.
        let start = json["start"]?["test_start"]
        if let n = start?["num_streams"]?.double, n >= 1 { d["streams"] = .number(n) }
        if let b = start?["blksize"]?.double, b >= 1 { d["message_size"] = .number(b) }
        if let r = start?["reverse"]?.double {
            let both = (start?["bidir"]?.double ?? 0) != 0
            d["direction"] = .string(both ? "bidirectional" : r != 0 ? "server_to_client" : "client_to_server")
        }
        if start?["protocol"]?.string == "UDP", let bits = start?["target_bitrate"]?.double, bits > 0 {
            d["target_bytes_per_second"] = .number(bits / 8)
        }
        return .object(d)
    }

    /// Splits concatenated JSON objects by brace depth (strings respected), with each one's line.
    static func splitDocuments(_ text: String, file: String) throws -> [(Int, String)] {
        var docs: [(Int, String)] = []
        let bytes = Array(text.utf8)
        var depth = 0, inString = false, escaped = false, start = 0, line = 1, startLine = 1
        for (i, b) in bytes.enumerated() {
            if b == UInt8(ascii: "\n") { line += 1 }
            if inString {
                if escaped { escaped = false } else if b == UInt8(ascii: "\\") { escaped = true } else if b == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch b {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "{"):
                if depth == 0 { start = i; startLine = line }
                depth += 1
            case UInt8(ascii: "}"):
                depth -= 1
                if depth == 0 { docs.append((startLine, String(decoding: bytes[start...i], as: UTF8.self))) }
                if depth < 0 { throw FileError(file, "line \(line): unbalanced '}'; expected iperf3's --json output") }
            default: break
            }
        }
        if depth != 0 { throw FileError(file, "the last iperf3 JSON object is cut off (line \(startLine)); was iperf3 interrupted?") }
        return docs
    }
}
