import ArgumentParser
import Foundation
import CloudbenchCore

/// `cloudbench import`: existing qperf / iperf3 output or the reference study's CSV → result records.
struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Turn existing measurements into result records, so old runs merge with new ones.",
        discussion: "Records are appended to --out; importing the same file again adds nothing. See docs/results.md.",
        subcommands: [QperfImport.self, Iperf3Import.self, ReferenceCSVImport.self]
    )
}

/// What the tools' output does not say: the instances, the path, the price.
struct ImportTarget: ParsableArguments {
    @Option(help: "Pair name (as in an inventory), e.g. azure-a2.")
    var pair: String

    @Option(help: "Provider, e.g. azure, aws, digitalocean.")
    var provider: String

    @Option(help: "Instance type, e.g. A2.")
    var type: String

    @Option(help: "Region.")
    var region = "unspecified"

    @Option(help: "Path the traffic took: host, vxlan, udp or an overlay's name.")
    var path = "host"

    @Option(help: "Where the two instances sat: same-az, cross-az, placement-group, same-region, ….")
    var placement: String?

    @Option(help: "Hourly price the run was made under, e.g. \"0.1207 EUR/h\".")
    var price: String?

    @Option(name: .customLong("run-id"), help: "Run id for the records (default: import-<hash of the file>).")
    var runID: String?

    @Option(help: "When the measurement was made, ISO 8601 (default: the tool's own time, else the file's modification time).")
    var time: String?

    @Option(help: "Results file to append to, e.g. results/old-2019.jsonl.")
    var out: String

    @Option(help: "Provider catalog folder, to check the type name.")
    var providers: String?

    func context() throws -> ImportContext {
        var money: Money?
        if let price { money = try PriceArgument.parse(price) }
        var iso: String?
        if let time {
            guard let t = Importer.normaliseTime(time) else {
                throw FileError("--time", "'\(time)' is not a date; use ISO 8601 such as 2019-05-01 or 2019-05-01T12:00:00Z")
            }
            iso = t
        }
        return ImportContext(pair: pair, provider: provider, type: type, region: region, placement: placement, path: path,
                             price: money, runID: runID, time: iso)
    }

    /// A note (not an error: old runs may be on types no catalog lists) when the type is unknown.
    func checkCatalog() {
        guard let catalog = try? Catalog.load(directory: providers ?? Catalog.defaultDirectory()) else { return }
        if let price, let money = try? PriceArgument.parse(price), !catalog.exchangeRates.currencies.contains(money.currency) {
            printError("note: providers/fx.yaml has no rate for \(money.currency); reports can show this price but not rank it")
        }
        guard let known = catalog.types[provider] else {
            let hint = Suggestion.closest(to: provider, in: catalog.providers).map { " (did you mean '\($0)'?)" } ?? ""
            printError("note: no catalog for provider '\(provider)'\(hint); without --price the report shows no price for it")
            return
        }
        if known[type] == nil {
            let hint = Suggestion.closest(to: type, in: known.keys).map { " (did you mean '\($0)'?)" } ?? ""
            printError("note: \(provider) has no type '\(type)' in its catalog\(hint); without --price the report shows no price for it")
        }
    }
}

/// Parses `0.1207 EUR/h`, `0.1207 EUR` or `EUR 0.1207`.
enum PriceArgument {
    static func parse(_ text: String) throws -> Money {
        var words = text.replacingOccurrences(of: "/h", with: "").split(separator: " ").map(String.init)
        if words.count == 2, Money.decimal(words[0]) == nil { words.reverse() }
        guard words.count == 2, let amount = Money.decimal(words[0]), amount >= 0,
              words[1].count == 3, words[1].allSatisfy({ $0.isUppercase }) else {
            throw FileError("--price", "'\(text)' is not a price; write it as amount and currency, e.g. \"0.1207 EUR/h\"")
        }
        return Money(amount, words[1])
    }
}

/// Appends records to a results file, skipping ids it already holds.
enum ImportWriter {
    static func append(_ records: [ResultRecord], to out: String, from file: String) throws {
        var existing: Set<String> = []
        if FileManager.default.fileExists(atPath: out) {
            existing = Set(try ResultStore.load(paths: [out]).records.map(\.id))
        }
        let fresh = records.filter { !existing.contains($0.id) }
        let writer = try ResultWriter(path: out)
        for r in fresh { try writer.append(r) }
        let tests = Set(records.map(\.test)).sorted().joined(separator: ", ")
        let failed = fresh.filter { $0.status == .failed }.count
        var line = "imported \(fresh.count) record\(fresh.count == 1 ? "" : "s") (\(tests)) from \(file) into \(out)"
        if failed > 0 { line += "; \(failed) failed" }
        if fresh.count < records.count { line += "; \(records.count - fresh.count) already there, skipped" }
        print(line)
    }

    static func read(_ file: String) throws -> (String, [UInt8], String) {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw FileError(file, FileManager.default.fileExists(atPath: file) ? "cannot read the file" : "no such file")
        }
        let attrs = try? FileManager.default.attributesOfItem(atPath: file)
        let mtime = (attrs?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
        return (String(decoding: data, as: UTF8.self), Array(data), Importer.isoTime(mtime))
    }
}

extension ImportTarget {
    /// Reads `file`, parses it into measurements, and appends their records to `--out`.
    func importFile(_ file: String, source: String, parse: (String, String) throws -> [ImportedMeasurement]) throws {
        try ErrorDoor.run {
            let context = try self.context()
            checkCatalog()
            let (text, bytes, mtime) = try ImportWriter.read(file)
            let measurements = try parse(text, file)
            let records = Importer.records(measurements, context: context, content: bytes, source: source, fallbackTime: mtime)
            try ImportWriter.append(records, to: out, from: file)
        }
    }
}

struct QperfImport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "qperf", abstract: "Import qperf's text output (tcp_bw and tcp_lat; several runs in one file become repetitions).")

    @Argument(help: "File holding what `qperf HOST tcp_bw tcp_lat` printed.")
    var file: String

    @OptionGroup var target: ImportTarget

    func run() throws {
        try target.importFile(file, source: "qperf", parse: QperfOutput.parse)
    }
}

struct Iperf3Import: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "iperf3", abstract: "Import iperf3 --json output (the receiver's throughput; several runs in one file become repetitions).")

    @Argument(help: "File holding what `iperf3 -c HOST -J` printed.")
    var file: String

    @OptionGroup var target: ImportTarget

    func run() throws {
        try target.importFile(file, source: "iperf3", parse: Iperf3Output.parse)
    }
}

struct ReferenceCSVImport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reference-csv",
        abstract: "Import the reference study's CSV: one tcp_bw and one tcp_lat record per row.")

    @Argument(help: "CSV with provider,instance_type,path,placement,throughput,throughput_unit,latency_us,price_per_hour,currency.")
    var file: String

    @Option(help: "Results file to append to.")
    var out: String

    @Option(name: .customLong("run-id"), help: "Run id for the records.")
    var runID = "reference-2015"

    @Option(help: "Time given to every record (the study's year; its month is not known).")
    var time = "2015-06-01T00:00:00Z"

    func run() throws {
        try ErrorDoor.run {
            guard let iso = Importer.normaliseTime(time) else {
                throw FileError("--time", "'\(time)' is not a date; use ISO 8601 such as 2015-06-01")
            }
            let (text, _, _) = try ImportWriter.read(file)
            let records = try ReferenceCSV.parse(text, file: file, options: .init(runID: runID, time: iso))
            try ImportWriter.append(records, to: out, from: file)
        }
    }
}
