/// Reads qperf's text output (`qperf HOST tcp_bw tcp_lat`, with or without `-v`).
///
/// qperf prints a block per test: the test name and a colon, then indented `key = value unit`
/// lines; `bw` in bytes/sec, KB/sec, MB/sec, GB/sec or TB/sec (decimal; bits/sec, Kb/sec … with
/// `-ub`), `latency` in ns, us, ms or sec. A block whose line says `failed` becomes a failed
/// measurement. Several runs appended to one file become repetitions.
public enum QperfOutput {
    static let bytesPerSecond: [String: Double] = [
        "bytes/sec": 1, "KB/sec": 1e3, "MB/sec": 1e6, "GB/sec": 1e9, "TB/sec": 1e12,
        "bits/sec": 0.125, "Kb/sec": 125, "Mb/sec": 1.25e5, "Gb/sec": 1.25e8, "Tb/sec": 1.25e11,
    ]
    static let microseconds: [String: Double] = ["ns": 1e-3, "us": 1, "ms": 1e3, "sec": 1e6, "s": 1e6]
    static let tests: Set<String> = ["tcp_bw", "tcp_lat"]

    public static func parse(_ text: String, file: String) throws -> [ImportedMeasurement] {
        var out: [ImportedMeasurement] = []
        var problems: [Diagnostic] = []
        var current: (test: String, fields: [String: JSONValue], value: Double?, error: String?, line: Int)?

        func finish() {
            guard let c = current else { return }
            current = nil
            guard tests.contains(c.test) else { return }
            let unit = c.test == "tcp_bw" ? "MB/s" : "us"
            if let v = c.value {
                out.append(ImportedMeasurement(test: c.test, status: .ok, value: v, unit: unit, detail: .object(c.fields)))
            } else {
                let reason = c.error ?? "qperf printed no \(c.test == "tcp_bw" ? "bw" : "latency") figure"
                out.append(ImportedMeasurement(test: c.test, status: .failed, value: nil, unit: unit, error: reason,
                                               detail: .object(c.fields)))
            }
        }

        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty { continue }
            let indented = raw.first == " " || raw.first == "\t"
            if !indented, line.hasSuffix(":"), !line.contains(" ") {
                finish()
                current = (String(line.dropLast()), ["tool": .string("qperf")], nil, nil, i + 1)
                continue
            }
            guard current != nil else { continue }
            let parts = line.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2 else {
                if line.contains("failed") || line.contains("error") { current!.error = line }
                continue
            }
            let key = parts[0], rest = parts[1]
            current!.fields[key] = .string(rest)
            let isBW = current!.test == "tcp_bw" && (key == "bw" || (key == "recv_bw" && current!.fields["bw"] == nil))
            let isLat = current!.test == "tcp_lat" && key == "latency"
            guard isBW || isLat else { continue }
            let words = rest.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            let column = raw.distance(from: raw.startIndex, to: raw.firstIndex(of: "=")!) + 3
            guard words.count == 2, let number = Double(words[0]), number.isFinite, number >= 0 else {
                problems.append(Diagnostic(SourceLocation(file: file, line: i + 1, column: column),
                                           "expected a number and a unit after '\(key) =', found '\(rest)'"))
                continue
            }
            if isBW {
                guard let f = bytesPerSecond[words[1]] else {
                    problems.append(Diagnostic(SourceLocation(file: file, line: i + 1, column: column),
                        "unknown bandwidth unit '\(words[1])'; qperf prints bytes/sec, KB/sec, MB/sec, GB/sec or TB/sec"))
                    continue
                }
                current!.value = number * f / 1e6
            } else {
                guard let f = microseconds[words[1]] else {
                    problems.append(Diagnostic(SourceLocation(file: file, line: i + 1, column: column),
                        "unknown latency unit '\(words[1])'; qperf prints ns, us, ms or sec"))
                    continue
                }
                current!.value = number * f
            }
        }
        finish()
        if !problems.isEmpty { throw InputErrors(problems) }
        guard !out.isEmpty else {
            throw FileError(file, "no qperf tcp_bw or tcp_lat results found; save qperf's output with `qperf HOST tcp_bw tcp_lat > FILE`")
        }
        return out
    }
}
