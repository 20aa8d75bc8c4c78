import Foundation
import CloudbenchCore

/// Made-up records for `cloudbench bench-report`: realistic in shape (real catalog types,
/// placements, overlays, failures, an agent-like `detail`), clearly labelled, never measurements
/// and never written to a results folder.
public enum SyntheticRecords {
    public static let runID = "synthetic-bench-report"
    public static let source = "synthetic (cloudbench bench-report; not a measurement)"

    public static func generate(count: Int, catalog: Catalog, seed: UInt64 = 1) -> [ResultRecord] {
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
        let placements = ["same-zone", "cross-zone"], paths = ["host", "vxlan", "udp"], tests = ["tcp_bw", "tcp_lat"]
        let cellsPerRound = max(1, types.count * placements.count * paths.count * tests.count)
        var out: [ResultRecord] = []
        out.reserveCapacity(count)
        var i = 0
        while out.count < count {
            let cell = i % cellsPerRound, round = i / cellsPerRound
            let (provider, type) = types.isEmpty ? ("synthetic", "t1") : types[cell / (placements.count * paths.count * tests.count)]
            let placement = placements[(cell / (paths.count * tests.count)) % placements.count]
            let path = paths[(cell / tests.count) % paths.count]
            let test = tests[cell % tests.count]
            let pair = "\(provider)-\(type)-\(placement)"
            let failed = next() < 0.02
            let base = test == "tcp_bw" ? 50 + Double(type.utf8.reduce(0) { $0 + Int($1) } % 900) : 80 + Double(type.count * 17)
            let pathFactor = path == "host" ? 1.0 : path == "vxlan" ? (test == "tcp_bw" ? 0.85 : 1.2) : (test == "tcp_bw" ? 0.4 : 1.8)
            let value = base * pathFactor * (0.95 + 0.1 * next())
            let seconds = 1_767_225_600 + i * 7
            let time = isoTime(seconds)
            let intervals: [JSONValue] = (0..<10).map { _ in .number((value * (0.9 + 0.2 * next()) * 1000).rounded() / 1000) }
            out.append(ResultRecord(
                id: ResultRecord.makeID(runID: runID, pair: pair, path: path, test: test, repetition: round + 1),
                runID: runID, time: time, pair: pair, provider: provider, type: type, region: "synthetic",
                placement: placement, path: path, test: test, repetition: round + 1, status: failed ? .failed : .ok,
                error: failed ? "synthetic failure" : nil, value: failed ? nil : value, unit: test == "tcp_bw" ? "MB/s" : "us",
                price: catalog.type(provider, type)?.prices.first?.money, source: source,
                detail: .object(["synthetic": .bool(true), "intervals": .array(intervals),
                                 "retransmits": .number(Double(Int(next() * 40))), "mtu": .number(1500)])))
            i += 1
        }
        return out
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
