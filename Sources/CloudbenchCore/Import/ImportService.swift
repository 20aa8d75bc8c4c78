import Foundation

/// `cloudbench import`'s work, away from the command line: read a file, parse it, append its
/// records to a results file (skipping ids it already holds) and say what was done.
public enum ImportService {
    /// What one import did, for the one line the command prints.
    public struct Summary: Sendable, Equatable {
        public var file: String
        public var out: String
        public var tests: [String]
        /// Records appended now.
        public var imported: Int
        /// Of those, records of failed measurements.
        public var failed: Int
        /// Records the results file already held (the same file imported before).
        public var alreadyThere: Int

        public var line: String {
            var line = "imported \(imported) record\(imported == 1 ? "" : "s") (\(tests.joined(separator: ", "))) from \(file) into \(out)"
            if failed > 0 { line += "; \(failed) failed" }
            if alreadyThere > 0 { line += "; \(alreadyThere) already there, skipped" }
            return line
        }
    }

    /// Imports a tool's output (`qperf`, `iperf3`) under `context`.
    public static func importToolOutput(file: String, source: String, context: ImportContext, out: String,
                                        parse: (String, String) throws -> [ImportedMeasurement]) throws -> Summary {
        let (text, bytes, mtime) = try read(file)
        let measurements = try parse(text, file)
        let records = Importer.records(measurements, context: context, content: bytes, source: source, fallbackTime: mtime)
        return try append(records, to: out, from: file)
    }

    /// Imports the reference study's CSV.
    /// `regions` are `PROVIDER=REGION` (the `--region` of the command), the region of that
    /// provider's rows.
    public static func importReferenceCSV(file: String, out: String, runID: String, time: String,
                                          regions: [String] = []) throws -> Summary {
        guard let iso = Importer.normaliseTime(time) else {
            throw FileError("--time", "'\(time)' is not a date; use ISO 8601 such as 2015-06-01")
        }
        var byProvider: [String: String] = [:]
        for r in regions {
            let parts = r.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw FileError("--region", "'\(r)' is not PROVIDER=REGION, e.g. aws=us-east-1")
            }
            byProvider[parts[0]] = parts[1]
        }
        let (text, _, _) = try read(file)
        let records = try ReferenceCSV.parse(text, file: file, options: .init(runID: runID, time: iso, regions: byProvider))
        return try append(records, to: out, from: file)
    }

    /// Notes (not errors: old runs may be on types no catalog lists) about what the catalog
    /// cannot price: an unknown provider or type, a currency without a rate.
    public static func notes(provider: String, type: String, price: Money?, catalog: Catalog) -> [String] {
        var notes: [String] = []
        if let price, !catalog.exchangeRates.currencies.contains(price.currency) {
            notes.append("providers/fx.yaml has no rate for \(price.currency); reports can show this price but not rank it")
        }
        guard let known = catalog.types[provider] else {
            let hint = Suggestion.closest(to: provider, in: catalog.providers).map { " (did you mean '\($0)'?)" } ?? ""
            notes.append("no catalog for provider '\(provider)'\(hint); without --price the report shows no price for it")
            return notes
        }
        if known[type] == nil {
            let hint = Suggestion.closest(to: type, in: known.keys).map { " (did you mean '\($0)'?)" } ?? ""
            notes.append("\(provider) has no type '\(type)' in its catalog\(hint); without --price the report shows no price for it")
        }
        return notes
    }

    /// Parses `0.1207 EUR/h`, `0.1207 EUR` or `EUR 0.1207` (the `--price` of an import).
    public static func price(_ text: String) throws -> Money {
        var words = text.replacingOccurrences(of: "/h", with: "").split(separator: " ").map(String.init)
        if words.count == 2, Money.decimal(words[0]) == nil { words.reverse() }
        guard words.count == 2, let amount = Money.decimal(words[0]), amount >= 0,
              words[1].count == 3, words[1].allSatisfy({ $0.isUppercase }) else {
            throw FileError("--price", "'\(text)' is not a price; write it as amount and currency, e.g. \"0.1207 EUR/h\"")
        }
        return Money(amount, words[1])
    }

    /// Appends records to `out`, skipping ids it already holds.
    static func append(_ records: [ResultRecord], to out: String, from file: String) throws -> Summary {
        var existing: Set<String> = []
        if FileManager.default.fileExists(atPath: out) {
            existing = Set(try ResultStore.load(paths: [out]).records.map(\.id))
        }
        // Records from outside are checked before anything is written: a bad one refuses the import.
        let latest = RecordCheck.latest(now: Date())
        let refused = records.enumerated().compactMap { i, r in
            RecordCheck.problem(r, latest: latest).map { "record \(i + 1) (\(r.test), repetition \(r.repetition)): \($0)" }
        }
        if !refused.isEmpty {
            let shown = refused.prefix(3).joined(separator: "; ") + (refused.count > 3 ? "; and \(refused.count - 3) more" : "")
            throw FileError(file, "\(refused.count) record\(refused.count == 1 ? "" : "s") refused, nothing imported into \(out): \(shown)")
        }
        let fresh = records.filter { !existing.contains($0.id) }
        let writer = try ResultWriter(path: out)
        for r in fresh { try writer.append(r) }
        return Summary(file: file, out: out, tests: Set(records.map(\.test)).sorted(), imported: fresh.count,
                       failed: fresh.filter { $0.status == .failed }.count, alreadyThere: records.count - fresh.count)
    }

    /// The file's text, bytes (for the content hash) and modification time.
    static func read(_ file: String) throws -> (String, [UInt8], String) {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw FileError(file, FileManager.default.fileExists(atPath: file) ? "cannot read the file" : "no such file")
        }
        let attrs = try? FileManager.default.attributesOfItem(atPath: file)
        let mtime = (attrs?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
        return (String(decoding: data, as: UTF8.self), Array(data), Importer.isoTime(mtime))
    }
}
