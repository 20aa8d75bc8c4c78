import Foundation
import CloudbenchCore

/// Made-up records for `cloudbench bench-report`: realistic in shape (real catalog types,
/// placements, overlays, failures, every test type with an agent-like `detail`: per-second
/// intervals with an occasional drop, RTT percentiles, UDP loss and jitter, HTTP times per
/// connection mode, CPU per GB and steal), clearly labelled, never measurements and never written
/// to a results folder.
public enum SyntheticRecords {
    public static let runID = "synthetic-bench-report"
    public static let source = "synthetic (cloudbench bench-report; not a measurement)"

    public static func generate(count: Int, catalog: Catalog, seed: UInt64 = 1) -> [ResultRecord] {
        var out: [ResultRecord] = []
        out.reserveCapacity(count)
        generate(count: count, catalog: catalog, seed: seed) { out.append($0) }
        return out
    }

    /// The same records one at a time, none kept (`bench-report` writes a million of them to a file).
    public static func generate(count: Int, catalog: Catalog, seed: UInt64 = 1, each: (ResultRecord) throws -> Void) rethrows {
        var rng = seed
        func next() -> Double {
            // SplitMix64: repeatable across platforms.
            rng &+= 0x9E37_79B9_7F4A_7C15
            var z = rng
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Double((z ^ (z >> 31)) >> 11) / Double(1 << 53)
        }
        let types = catalog.providers.flatMap { p in catalog.types[p, default: [:]].keys.sorted().map { (p, $0) } }
        let placements = ["same-zone", "cross-zone"], paths = ["host", "vxlan", "udp"], tests = ["tcp_bw", "tcp_lat", "tcp_crr", "udp_bw", "udp_pps", "http"]
        let cellsPerRound = max(1, types.count * placements.count * paths.count * tests.count)
        var i = 0
        func rounded(_ x: Double) -> JSONValue { .number((x * 1000).rounded() / 1000) }
        /// Agent-like percentiles of a sample around `median`.
        func percentiles(_ median: Double) -> JSONValue {
            .object(["min": rounded(median * 0.8), "p50": rounded(median), "p90": rounded(median * 1.3), "p95": rounded(median * 1.5),
                     "p99": rounded(median * 2.1), "p999": rounded(median * 3.4), "max": rounded(median * 4), "mean": rounded(median * 1.05)])
        }
        func cpu() -> JSONValue {
            .object(["client": .object(["cpu_seconds_per_gigabyte": rounded(1 + next()), "steal_percent": rounded(next() * 2)]),
                     "server": .object(["cpu_seconds_per_gigabyte": rounded(1.5 + next()), "steal_percent": rounded(next() * 2)])])
        }
        while i < count {
            let cell = i % cellsPerRound, round = i / cellsPerRound
            let (provider, type) = types.isEmpty ? ("synthetic", "t1") : types[cell / (placements.count * paths.count * tests.count)]
            let placement = placements[(cell / (paths.count * tests.count)) % placements.count]
            let path = paths[(cell / tests.count) % paths.count]
            let test = tests[cell % tests.count]
            let pair = "\(provider)-\(type)-\(placement)"
            let failed = next() < 0.02
            let typeSpeed = 50 + Double(type.utf8.reduce(0) { $0 + Int($1) } % 900)
            let base: Double, unit: String
            switch test {
            case "tcp_bw": base = typeSpeed; unit = "MB/s"
            case "tcp_lat": base = 80 + Double(type.count * 17); unit = "us"
            case "udp_bw": base = min(typeSpeed, 100) * 0.97; unit = "MB/s"
            case "udp_pps": base = typeSpeed * 400; unit = "pps"
            case "tcp_crr": base = typeSpeed * 8; unit = "conn/s"
            default: base = 0.2 / min(typeSpeed, 500) * 1000 + 0.3; unit = "ms"
            }
            let slower = test == "tcp_lat" || test == "http"
            let pathFactor = path == "host" ? 1.0 : path == "vxlan" ? (slower ? 1.2 : 0.85) : (slower ? 1.8 : 0.4)
            let value = base * pathFactor * (0.95 + 0.1 * next())
            let seconds = 1_767_225_600 + i * 7
            var detail: [String: JSONValue] = ["synthetic": .bool(true), "mtu": .number(1500)]
            switch test {
            case "tcp_bw":
                // One repetition in 50 drops to a third for a second, as a congested link would.
                let drop = next() < 0.02 ? Int(next() * 10) : -1
                detail["interval_s"] = .number(1)
                detail["intervals"] = .array((0..<10).map { s in
                    let v = value * (0.9 + 0.2 * next()) * (s == drop ? 0.3 : 1)
                    return .object(["start_s": .number(Double(s)), "end_s": .number(Double(s + 1)),
                                    "bytes_per_second": .number((v * 1e6).rounded())])
                })
                detail["retransmits"] = .number(Double(Int(next() * 40)))
                detail["cpu"] = cpu()
            case "tcp_lat":
                detail["latency_us"] = rounded(value)
                detail["rtt_us"] = percentiles(value * 2 * 0.95)
                detail["cpu"] = cpu()
            case "udp_bw":
                detail["target_bytes_per_second"] = .number(100e6)
                detail["sender_bytes_per_second"] = .number(100e6)
                detail["loss_percent"] = rounded(max(0, 100 - value) + next() * 0.5)
                detail["jitter_us"] = rounded(20 + next() * 30)
            case "udp_pps":
                detail["message_size"] = .number(64)
                // A search for the highest rate with < 1 % loss: what it found and the loss there.
                detail["udp_rate"] = .string("search")
                detail["searched_rate_packets_per_second"] = .number(value.rounded())
                detail["loss_percent"] = rounded(next() * 0.9)
                detail["cpu"] = cpu()
            case "tcp_crr":
                detail["message_size"] = .number(1)
                detail["transaction_us"] = percentiles(1e6 / value * 0.8)
            default:
                detail["size"] = .number(200_000)
                detail["count"] = .number(100)
                detail["reuse"] = .object(["total_us": percentiles(value * 1000)])
                detail["new_connection"] = .object(["total_us": percentiles(value * 1000 * 1.6)])
            }
            try each(ResultRecord(
                id: ResultRecord.makeID(runID: runID, pair: pair, path: path, test: test, repetition: round + 1),
                runID: runID, time: isoTime(seconds), pair: pair, provider: provider, type: type, region: "synthetic",
                placement: placement, path: path, test: test, repetition: round + 1, status: failed ? .failed : .ok,
                error: failed ? "synthetic failure" : nil, value: failed ? nil : value, unit: unit,
                price: catalog.type(provider, type)?.prices.first?.money, source: source,
                detail: failed ? .object(["synthetic": .bool(true)]) : .object(detail)))
            i += 1
        }
    }

    /// `YYYY-MM-DDTHH:MM:SSZ` by calendar arithmetic (a date formatter per record would dominate
    /// the generation time).
    static func isoTime(_ seconds: Int) -> String {
        let days = seconds / 86400, rest = seconds % 86400
        let z = days + 719468, era = z / 146097, doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(y)-\(two(m))-\(two(d))T\(two(rest / 3600)):\(two(rest / 60 % 60)):\(two(rest % 60))Z"
    }
}
