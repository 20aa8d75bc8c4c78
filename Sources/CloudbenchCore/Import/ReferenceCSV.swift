import Foundation

/// Reads the reference study's CSV (`provider,instance_type,path,placement,throughput,
/// throughput_unit,latency_us,price_per_hour,currency`) into result records: one `tcp_bw` and
/// one `tcp_lat` record per row, throughput converted to MB/s (10^6 bytes/s).
public enum ReferenceCSV {
    public static let columns = ["provider", "instance_type", "path", "placement", "throughput", "throughput_unit",
                                 "latency_us", "price_per_hour", "currency"]
    /// Decimal multipliers into MB/s.
    static let toMBs: [String: Decimal] = [
        "bytes/s": Decimal(string: "0.000001")!, "KB/s": Decimal(string: "0.001")!, "MB/s": 1, "GB/s": 1000,
        "Kbit/s": Decimal(string: "0.000125")!, "Mbit/s": Decimal(string: "0.125")!, "Gbit/s": 125,
    ]

    public struct Options: Sendable {
        public var runID: String
        public var time: String
        /// Provider → the region its rows were measured in; the CSV does not say (a provider
        /// not listed gets no region).
        public var regions: [String: String]
        public init(runID: String = "reference-2015", time: String = "2015-06-01T00:00:00Z", regions: [String: String] = [:]) {
            self.runID = runID
            self.time = time
            self.regions = regions
        }

        /// The regions the study's instances ran in, as inventories/reference-2015.yaml states them.
        public static let studyRegions = ["azure": "westeurope", "aws": "us-east-1", "digitalocean": "ams3"]
    }

    public static func parse(_ text: String, file: String, options: Options = Options()) throws -> [ResultRecord] {
        let rows = CSVTable.parse(text)
        guard let header = rows.first else { throw FileError(file, "the file is empty; expected a header line: \(columns.joined(separator: ","))") }
        var index: [String: Int] = [:]
        for (i, name) in header.fields.enumerated() { index[name.trimmingCharacters(in: .whitespaces)] = i }
        let missing = columns.filter { index[$0] == nil }
        guard missing.isEmpty else {
            throw InputErrors([Diagnostic(SourceLocation(file: file, line: header.line, column: 1),
                                          "missing column\(missing.count > 1 ? "s" : "") \(missing.joined(separator: ", ")); expected \(columns.joined(separator: ","))")])
        }
        var problems: [Diagnostic] = []
        var records: [ResultRecord] = []
        var occurrences: [String: Int] = [:]
        for row in rows.dropFirst() {
            func field(_ name: String) -> String {
                let i = index[name]!
                return i < row.fields.count ? row.fields[i].trimmingCharacters(in: .whitespaces) : ""
            }
            func column(_ name: String) -> Int {
                // 1-based column of the field's first character on its line.
                let i = index[name]!
                return row.fields.prefix(i).reduce(1) { $0 + $1.count + 1 }
            }
            func problem(_ name: String, _ message: String) {
                problems.append(Diagnostic(SourceLocation(file: file, line: row.line, column: column(name)), message))
            }
            let provider = field("provider"), type = field("instance_type"), path = field("path")
            let placement = field("placement")
            for (name, value) in [("provider", provider), ("instance_type", type), ("path", path)] where value.isEmpty {
                problem(name, "'\(name)' is empty")
            }
            var throughput: Decimal?
            let tText = field("throughput")
            if !tText.isEmpty {
                let unit = field("throughput_unit")
                if let d = Money.decimal(tText), d >= 0 {
                    if let f = toMBs[unit] { throughput = d * f } else {
                        let hint = Suggestion.hint(for: unit, in: toMBs.keys)
                        problem("throughput_unit", "unknown throughput unit '\(unit)'"
                                + (hint.isEmpty ? "; use one of \(toMBs.keys.sorted().joined(separator: ", "))" : hint))
                    }
                } else {
                    problem("throughput", "throughput must be a number, not '\(tText)'")
                }
            }
            var latency: Decimal?
            let lText = field("latency_us")
            if !lText.isEmpty {
                if let d = Money.decimal(lText), d >= 0 { latency = d } else { problem("latency_us", "latency_us must be a number, not '\(lText)'") }
            }
            var price: Money?
            let pText = field("price_per_hour")
            if !pText.isEmpty {
                let currency = field("currency")
                if let d = Money.decimal(pText), d >= 0, !currency.isEmpty {
                    price = Money(d, currency)
                } else if currency.isEmpty {
                    problem("currency", "a price needs its currency, e.g. USD")
                } else {
                    problem("price_per_hour", "price_per_hour must be a decimal number, not '\(pText)'")
                }
            }
            let pair = [provider, type, placement].filter { !$0.isEmpty }.joined(separator: "-")
            let key = "\(pair)/\(path)"
            let rep = (occurrences[key] ?? 0) + 1
            occurrences[key] = rep
            var raw: [String: JSONValue] = ["line": .number(Double(row.line))]
            for name in columns { raw[name] = .string(field(name)) }
            for (test, value, unit) in [("tcp_bw", throughput, "MB/s"), ("tcp_lat", latency, "us")] {
                guard let value else { continue }
                // The study's setup (qperf defaults): one stream of 64 KiB messages; a 1-byte ping-pong.
                var detail = raw
                if test == "tcp_bw" {
                    detail["streams"] = .number(1)
                    detail["direction"] = .string("client_to_server")
                    detail["message_size"] = .number(65536)
                } else {
                    detail["message_size"] = .number(1)
                }
                records.append(ResultRecord(
                    id: ResultRecord.makeID(runID: options.runID, pair: pair, path: path, test: test, repetition: rep),
                    runID: options.runID, time: options.time, pair: pair, provider: provider, type: type,
                    region: options.regions[provider] ?? "unspecified",
                    placement: placement.isEmpty ? nil : placement, path: path, test: test, repetition: rep, status: .ok,
                    value: Double(Money.plain(value))!, unit: unit, price: price, source: "reference-csv",
                    detail: .object(detail)))
            }
        }
        if !problems.isEmpty { throw InputErrors(problems) }
        return records
    }
}
