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
    var path: PathKind = .host

    @Option(help: "Where the two instances sat: same-zone, cross-zone, placement-group (or what your notes say).")
    var placement: String?

    @Option(help: "Hourly price the run was made under, e.g. \"0.1207 EUR/h\".")
    var price: String?

    @Option(name: .customLong("run-id"), help: "Run id for the records (default: import-<hash of the file>).")
    var runID: String?

    @Option(help: "When the measurement was made, ISO 8601 (default: the tool's own time, else the file's modification time).")
    var time: String?

    @Option(help: "Results file to append to, e.g. results/old-2019.jsonl.")
    var out: String

    @OptionGroup var catalog: CatalogOptions

    func context() throws -> ImportContext {
        var iso: String?
        if let time {
            guard let t = Importer.normaliseTime(time) else {
                throw FileError("--time", "'\(time)' is not a date; use ISO 8601 such as 2019-05-01 or 2019-05-01T12:00:00Z")
            }
            iso = t
        }
        return ImportContext(pair: pair, provider: provider, type: type, region: region, placement: placement, path: path.name,
                             price: try price.map(ImportService.price), runID: runID, time: iso)
    }

    /// Reads `file`, parses it into measurements, and appends their records to `--out`.
    func importFile(_ file: String, source: String, parse: (String, String) throws -> [ImportedMeasurement]) throws {
        try ErrorDoor.run {
            let context = try self.context()
            if let loaded = try? catalog.load() {
                for note in ImportService.notes(provider: provider, type: type, price: context.price, catalog: loaded) {
                    printError("note: \(note)")
                }
            }
            print(try ImportService.importToolOutput(file: file, source: source, context: context, out: out, parse: parse).line)
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

    @Option(name: .customLong("region"), help: "PROVIDER=REGION: the region of that provider's rows (repeat per provider), e.g. aws=us-east-1.")
    var regions: [String] = []

    func run() throws {
        try ErrorDoor.run {
            print(try ImportService.importReferenceCSV(file: file, out: out, runID: runID, time: time, regions: regions).line)
        }
    }
}
