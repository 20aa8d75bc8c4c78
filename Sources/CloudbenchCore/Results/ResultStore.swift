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
    /// last line (a crash mid-write) is named as such — and so is a record `RecordCheck`
    /// refuses (a negative value, a time before 2000 or more than a day after `now`, an unknown unit).
    public static func load(paths: [String], now: Date = Date()) throws -> Loaded {
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
        let latest = RecordCheck.latest(now: now)
        for file in files {
            try mergeFile(file, seen: &seen, into: &out, latest: latest)
        }
        return out
    }

    /// How much of a file is read at a time: the whole file is never held, only its records.
    static let blockSize = 8 << 20

    /// Adds one file's records to `out`, read a block at a time: each block ends at a line end
    /// (a longer line grows the block), and is decoded as `merge` decodes a whole file.
    static func mergeFile(_ file: String, seen: inout Set<String>, into out: inout Loaded, latest: String,
                          blockSize: Int = ResultStore.blockSize) throws {
        let fd = open(file, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileError(file, "cannot read the file: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(blockSize, 1))
        defer { buffer.deallocate() }
        var filled = 0, lines = 0, atEnd = false
        var st = stat()
        let fileSize = fstat(fd, &st) == 0 ? Int(st.st_size) : 0
        var estimated = false
        while !atEnd {
            if filled == buffer.count {
                // A line longer than the block: grow it (bounded by the file's size).
                let bigger = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: buffer.count * 2)
                _ = bigger.initialize(from: buffer)
                buffer.deallocate()
                buffer = bigger
            }
            let n = read(fd, buffer.baseAddress! + filled, buffer.count - filled)
            if n < 0 {
                if errno == EINTR { continue }
                throw FileError(file, "cannot read the file: \(String(cString: strerror(errno)))")
            }
            if n == 0 { atEnd = true } else { filled += n }
            guard atEnd || filled == buffer.count else { continue }
            // Decode up to the last line end (everything at the end of the file); keep the rest.
            var cut = filled
            if !atEnd {
                var last = filled - 1
                while last >= 0, buffer[last] != 0x0A { last -= 1 }
                guard last >= 0 else { continue }
                cut = last + 1
            }
            let before = out.records.count
            lines += merge(UnsafeBufferPointer(rebasing: buffer[0..<cut]), file: file, firstLine: lines, seen: &seen, into: &out,
                           latest: latest)
            if !estimated, !atEnd {
                // After the first block: room for the whole file's records at the first block's
                // rate, so neither the ids nor the records are rehashed or moved as they grow.
                estimated = true
                reserve(records: (out.records.count - before) * max(fileSize, cut) / cut, seen: &seen, into: &out)
            }
            let rest = filled - cut
            if rest > 0 { memmove(buffer.baseAddress!, buffer.baseAddress! + cut, rest) }
            filled = rest
        }
    }

    /// Parses JSONL already in memory (e.g. `bench-report`'s synthetic records), with the
    /// same rules as `load(paths:)`; `name` stands for the file in warnings.
    public static func load(data: Data, name: String, now: Date = Date()) -> Loaded {
        load(data: data, name: name, chunks: nil, now: now)
    }

    static func load(data: Data, name: String, chunks: Int?, now: Date = Date()) -> Loaded {
        var seen: Set<String> = []
        var out = Loaded(records: [], warnings: [], duplicates: 0)
        merge(data, file: name, seen: &seen, into: &out, chunks: chunks, latest: RecordCheck.latest(now: now))
        return out
    }

    /// The records and skipped lines of one chunk of a file, numbered by line within the chunk.
    struct ChunkResult {
        var lines = 0
        var records: [ResultRecord] = []
        var skipped: [(line: Int, message: String)] = []
    }

    /// Pointers handed to the worker threads; each worker reads the shared bytes and writes
    /// only its own slot, and all are done before `concurrentPerform` returns.
    struct Shared: @unchecked Sendable {
        let bytes: UnsafeBufferPointer<UInt8>
        let results: UnsafeMutableBufferPointer<ChunkResult>
        let bounds: [Int]
        let latest: String
    }

    /// Adds one file's records to `out`, skipping ids in `seen`.
    ///
    /// Big files are cut at line boundaries into one chunk per core and decoded in parallel;
    /// duplicates, order and line numbers are then settled in file order, so the result is the
    /// same as reading line by line. `chunks` forces a split (for tests).
    static func merge(_ data: Data, file: String, seen: inout Set<String>, into out: inout Loaded, chunks: Int? = nil,
                      latest: String) {
        data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            _ = merge(raw.bindMemory(to: UInt8.self), file: file, firstLine: 0, seen: &seen, into: &out, chunks: chunks, latest: latest)
        }
    }

    /// The same for bytes that are a whole file or a block of it ending at a line end; lines are
    /// numbered from `firstLine + 1`. Returns how many lines the bytes hold.
    static func merge(_ all: UnsafeBufferPointer<UInt8>, file: String, firstLine: Int, seen: inout Set<String>,
                      into out: inout Loaded, chunks: Int? = nil, latest: String) -> Int {
        guard !all.isEmpty else { return 0 }
        let k = max(1, chunks ?? (all.count >= 4_000_000 ? min(ProcessInfo.processInfo.activeProcessorCount, 8) : 1))
        var bounds = [0]
        for i in 1..<max(k, 1) {
            let from = max(i * all.count / k, bounds.last!)
            if from >= all.count { bounds.append(all.count); continue }
            if let nl = memchr(all.baseAddress! + from, 0x0A, all.count - from) {
                bounds.append(all.baseAddress!.distance(to: nl.assumingMemoryBound(to: UInt8.self)) + 1)
            } else {
                bounds.append(all.count)
            }
        }
        bounds.append(all.count)
        let results = UnsafeMutableBufferPointer<ChunkResult>.allocate(capacity: k)
        _ = results.initialize(from: repeatElement(ChunkResult(), count: k))
        defer { results.deinitialize(); results.deallocate() }
        let shared = Shared(bytes: all, results: results, bounds: bounds, latest: latest)
        if k == 1 {
            shared.results[0] = decodeChunk(shared.bytes, from: 0, to: all.count, latest: latest)
        } else {
            DispatchQueue.concurrentPerform(iterations: k) { c in
                shared.results[c] = decodeChunk(shared.bytes, from: shared.bounds[c], to: shared.bounds[c + 1], latest: shared.latest)
            }
        }
        var offset = firstLine
        for c in 0..<k {
            for (line, message) in results[c].skipped {
                out.warnings.append(Warning(file: file, line: offset + line, message: message))
            }
            offset += results[c].lines
            var records: [ResultRecord] = []
            swap(&records, &results[c].records)
            // Grown by doubling: a file read block by block would otherwise rehash every block.
            if seen.capacity < seen.count + records.count { seen.reserveCapacity(max(seen.capacity * 2, seen.count + records.count)) }
            var duplicates: [Int] = []
            for i in records.indices where !seen.insert(records[i].id).inserted { duplicates.append(i) }
            out.duplicates += duplicates.count
            if out.records.isEmpty && duplicates.isEmpty && out.records.capacity < records.count {
                out.records = records
            } else {
                moveRecords(&records, to: &out.records, dropping: duplicates)
            }
        }
        return offset - firstLine
    }

    /// Makes room for `records` more records in `out` and their ids in `seen` (when there is less).
    static func reserve(records: Int, seen: inout Set<String>, into out: inout Loaded) {
        guard records > 0 else { return }
        if seen.capacity < seen.count + records { seen.reserveCapacity(seen.count + records) }
        if out.records.capacity < out.records.count + records { out.records.reserveCapacity(out.records.count + records) }
    }

    /// A record that owns no memory (every string empty, so stored inline): what a moved-out slot holds.
    static let movedOut = ResultRecord(id: "", runID: "", time: "", pair: "", provider: "", type: "", region: "", path: "",
                                       test: "", repetition: 0, status: .ok)

    /// Moves `source`'s records to the end of `target`, in order, except those at the indices in
    /// `drop` (ascending), and empties `source`.
    ///
    /// `append(contentsOf:)` would copy each record (retaining every string and `detail` it holds,
    /// memory not touched since it was decoded) and then release them all again with `source`:
    /// for 100,000 records that costs more than a third of decoding them. Each record is moved
    /// instead, and its slot in `source` refilled with `movedOut`, whose release touches nothing.
    static func moveRecords(_ source: inout [ResultRecord], to target: inout [ResultRecord], dropping drop: [Int]) {
        let n = source.count
        guard n > 0 else { return }
        if target.capacity < target.count + n - drop.count { target.reserveCapacity(max(target.capacity * 2, target.count + n)) }
        source.withUnsafeMutableBufferPointer { src in
            let base = src.baseAddress!
            var next = 0  // the next index in `drop`
            for j in 0..<n {
                if next < drop.count, drop[next] == j {
                    next += 1
                    (base + j).deinitialize(count: 1)
                } else {
                    target.append((base + j).move())
                }
            }
            base.initialize(repeating: movedOut, count: n)
        }
        source = []
    }

    /// Decodes the lines in `bytes[from..<to]` (which starts at a line start).
    static func decodeChunk(_ all: UnsafeBufferPointer<UInt8>, from: Int, to: Int, latest: String) -> ChunkResult {
        var result = ChunkResult()
        let decoder = JSONDecoder()
        var scanner = JSONScanner(UnsafeBufferPointer(rebasing: all[from..<from]))
        var start = from
        // Walk the lines in place: slicing `Data` per line costs more than decoding it.
        while start < to {
            result.lines += 1
            let end: Int
            if let nl = memchr(all.baseAddress! + start, 0x0A, to - start) {
                end = all.baseAddress!.distance(to: nl.assumingMemoryBound(to: UInt8.self))
            } else {
                end = to
            }
            let line = UnsafeBufferPointer(rebasing: all[start..<end])
            // Only the file's very last line can lack its newline.
            let unterminated = end >= all.count
            start = end + 1
            if line.allSatisfy({ $0 == 32 || $0 == 9 || $0 == 13 }) { continue }
            do {
                // The fast reader handles well-formed lines; JSONDecoder names what is wrong with the rest.
                let record = try RecordDecoder.decode(line, scanner: &scanner) ?? {
                    try JSONNesting.check(line)  // before JSONDecoder, which recurses per level
                    return try decoder.decode(ResultRecord.self, from: Data(line))
                }()
                if !record.schema.hasPrefix("cloudbench-result/") {
                    result.skipped.append((result.lines, "skipped: unknown schema '\(record.schema)'"))
                } else if let problem = RecordCheck.problem(record, latest: latest) {
                    result.skipped.append((result.lines, "skipped: \(problem)"))
                } else {
                    result.records.append(record)
                }
            } catch {
                result.skipped.append((result.lines, (unterminated
                    ? "skipped a truncated last line (the run was interrupted while writing it)"
                    : "skipped a line that is not a result record: \(Self.reason(error))")))
            }
        }
        return result
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
/// crash loses at most the record being written. A file whose last line was cut (a crash, a
/// full disk) gets a line break first, so the cut line stays as it was and the new record is
/// whole; a record that cannot be written whole is taken back off the file.
public final class ResultWriter {
    public let path: String
    private let fd: Int32

    public init(path: String) throws {
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FileError(path, "cannot open for appending: \(String(cString: strerror(errno)))") }
        self.path = path
    }

    deinit { close(fd) }

    public func append(_ record: ResultRecord) throws {
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw FileError(path, "cannot read its size: \(String(cString: strerror(errno)))") }
        let size = st.st_size
        var last: UInt8 = 0
        let cut = size > 0 && pread(fd, &last, 1, size - 1) == 1 && last != UInt8(ascii: "\n")
        let bytes = Array(((cut ? "\n" : "") + (try record.jsonLine()) + "\n").utf8)
        var off = 0
        while off < bytes.count {
            let n = bytes[off...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                let why = String(cString: strerror(errno))
                // Half a record would be glued to the next one: take it back off.
                _ = ftruncate(fd, size)
                throw FileError(path, "cannot write: \(why)")
            }
            off += n
        }
        guard fsync(fd) == 0 else { throw FileError(path, "cannot sync to disk: \(String(cString: strerror(errno)))") }
    }
}
