import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Reading and appending result files (`*.jsonl`).
public enum ResultStore {
    /// What loading found besides records: lines it had to skip, and why.
    public struct Warning: Hashable, Sendable, CustomStringConvertible {
        public var file: String
        public var line: Int
        public var message: String
        public var description: String { "\(file):\(line): \(message)" }
    }

    public struct Loaded: Sendable {
        /// Every distinct record, in file order, first occurrence of an id kept.
        public var records: [ResultRecord]
        public var warnings: [Warning]
        public var duplicates: Int
    }

    /// Loads and merges result files (a folder means every `*.jsonl` in it). A record id seen
    /// twice counts once; a line that does not parse is skipped with a warning — a truncated
    /// last line (a crash mid-write) is named as such.
    public static func load(paths: [String]) throws -> Loaded {
        var files: [String] = []
        let fm = FileManager.default
        for p in paths {
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: p, isDirectory: &isDir) else { throw FileError(p, "no such file") }
            if isDir.boolValue {
                let names = (try? fm.contentsOfDirectory(atPath: p)) ?? []
                files += names.filter { $0.hasSuffix(".jsonl") }.sorted().map { "\(p)/\($0)" }
            } else {
                files.append(p)
            }
        }
        var seen: Set<String> = []
        var out = Loaded(records: [], warnings: [], duplicates: 0)
        for file in files {
            guard let data = fm.contents(atPath: file) else { throw FileError(file, "cannot read the file") }
            merge(data, file: file, seen: &seen, into: &out)
        }
        return out
    }

    /// Parses JSONL already in memory (e.g. `bench-report`'s synthetic records), with the
    /// same rules as `load(paths:)`; `name` stands for the file in warnings.
    public static func load(data: Data, name: String) -> Loaded {
        var seen: Set<String> = []
        var out = Loaded(records: [], warnings: [], duplicates: 0)
        merge(data, file: name, seen: &seen, into: &out)
        return out
    }

    /// Adds one file's records to `out`, skipping ids in `seen`.
    static func merge(_ data: Data, file: String, seen: inout Set<String>, into out: inout Loaded) {
        let decoder = JSONDecoder()
        let endsWithNewline = data.last == UInt8(ascii: "\n")
        data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let all = raw.bindMemory(to: UInt8.self)
            var start = 0, lineNumber = 0
            // Walk the lines in place: slicing `Data` per line costs more than decoding it.
            while start < all.count {
                lineNumber += 1
                var end = start
                while end < all.count, all[end] != UInt8(ascii: "\n") { end += 1 }
                let line = UnsafeBufferPointer(rebasing: all[start..<end])
                let isLast = end >= all.count || end + 1 == all.count
                start = end + 1
                if line.allSatisfy({ $0 == 32 || $0 == 9 || $0 == 13 }) { continue }
                do {
                    // The fast reader handles well-formed lines; JSONDecoder names what is wrong with the rest.
                    let record = try RecordDecoder.decode(line) ?? decoder.decode(ResultRecord.self, from: Data(line))
                    guard record.schema.hasPrefix("cloudbench-result/") else {
                        out.warnings.append(Warning(file: file, line: lineNumber, message: "skipped: unknown schema '\(record.schema)'"))
                        continue
                    }
                    if seen.insert(record.id).inserted { out.records.append(record) } else { out.duplicates += 1 }
                } catch {
                    let truncated = isLast && !endsWithNewline
                    out.warnings.append(Warning(file: file, line: lineNumber, message: truncated
                        ? "skipped a truncated last line (the run was interrupted while writing it)"
                        : "skipped a line that is not a result record: \(Self.reason(error))"))
                }
            }
        }
    }

    static func reason(_ error: Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): return "missing '\(key.stringValue)'"
        case DecodingError.typeMismatch(_, let ctx), DecodingError.valueNotFound(_, let ctx):
            return "wrong type at '\(ctx.codingPath.map(\.stringValue).joined(separator: "."))'"
        case DecodingError.dataCorrupted(let ctx):
            return ctx.codingPath.isEmpty ? "not valid JSON" : "bad value at '\(ctx.codingPath.map(\.stringValue).joined(separator: "."))'"
        default: return "\(error)"
        }
    }
}

/// Appends records to one results file, each flushed to disk before `append` returns, so a
/// crash loses at most the record being written.
public final class ResultWriter {
    public let path: String
    private let fd: Int32

    public init(path: String) throws {
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FileError(path, "cannot open for appending: \(String(cString: strerror(errno)))") }
        self.path = path
    }

    deinit { close(fd) }

    public func append(_ record: ResultRecord) throws {
        let bytes = Array((try record.jsonLine() + "\n").utf8)
        var off = 0
        while off < bytes.count {
            let n = bytes[off...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw FileError(path, "cannot write: \(String(cString: strerror(errno)))")
            }
            off += n
        }
        guard fsync(fd) == 0 else { throw FileError(path, "cannot sync to disk: \(String(cString: strerror(errno)))") }
    }
}
