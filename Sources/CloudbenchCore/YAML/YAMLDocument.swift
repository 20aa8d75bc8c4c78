import Foundation
import Yams

/// A parsed YAML file whose every node can say where it came from.
public struct YAMLDocument {
    public let file: String
    public let root: Yams.Node?

    /// Parses `text`; a syntax error becomes one `Diagnostic` at its position.
    public init(file: String, text: String) throws(Diagnostic) {
        self.file = file
        root = try YAMLDocument.compose(text, file: file)
    }

    /// The one door from YAML text to nodes: every YAML file cloudbench reads (inventories,
    /// catalogs, price files, exchange rates, lab profiles) comes through here, so the nesting
    /// limit and the error positions hold for all of them.
    public static func compose(_ text: String, file: String) throws(Diagnostic) -> Yams.Node? {
        if let (line, column) = YAMLNesting.tooDeep(text) {
            throw Diagnostic(SourceLocation(file: file, line: line, column: column),
                             "the YAML nests deeper than \(YAMLNesting.limit) levels here; cloudbench's files need a handful")
        }
        do {
            return try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw YAMLDocument.diagnostic(for: error, file: file, text: text)
        } catch {
            throw Diagnostic(SourceLocation(file: file, line: 1, column: 1), "cannot parse YAML: \(error)")
        }
    }

    /// Reads and parses a file; a missing file is a `FileError`.
    public static func load(path: String) throws -> YAMLDocument {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw FileError(path, FileManager.default.fileExists(atPath: path)
                ? "cannot read the file; check its permissions"
                : "no such file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw FileError(path, "is not UTF-8 text")
        }
        do { return try YAMLDocument(file: path, text: text) } catch { throw InputErrors([error]) }
    }

    /// The location of `node` in this file (the start of the file when libyaml gave none).
    public func location(_ node: Yams.Node?) -> SourceLocation {
        let mark = node?.mark
        return SourceLocation(file: file, line: mark?.line ?? 1, column: mark?.column ?? 1)
    }

    static func diagnostic(for error: YamlError, file: String, text: String) -> Diagnostic {
        func loc(_ m: Mark) -> SourceLocation { SourceLocation(file: file, line: m.line, column: m.column) }
        switch error {
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _),
             let .composer(context, problem, mark, _):
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            if mark.line >= 1, mark.line <= lines.count, lines[mark.line - 1].prefix(while: { $0 == " " || $0 == "\t" }).contains("\t") {
                return Diagnostic(loc(mark), "malformed YAML: a tab indents this line; YAML indents with spaces only")
            }
            let ctx = context.map { " \($0.text)" } ?? ""
            return Diagnostic(loc(mark), "malformed YAML: \(problem)\(ctx); check indentation, colons and quotes here")
        case let .reader(problem, _, _, _):
            return Diagnostic(SourceLocation(file: file, line: 1, column: 1), "malformed YAML: \(problem)")
        default:
            return Diagnostic(SourceLocation(file: file, line: 1, column: 1), "malformed YAML: \(error)")
        }
    }
}

/// Reads one YAML mapping field by field, collecting problems instead of stopping at the first.
///
/// Unknown and duplicate keys are reported when the reader is `finish`ed, with a suggestion
/// drawn from the keys the caller asked about.
public final class MappingReader {
    public let doc: YAMLDocument
    public let node: Yams.Node
    private(set) var entries: [(key: Yams.Node, value: Yams.Node)] = []
    private var known: [String] = []
    private let sink: DiagnosticSink
    public let context: String

    /// `nil` when `node` is not a mapping (a problem is recorded in `sink`).
    public init?(_ node: Yams.Node, in doc: YAMLDocument, context: String, sink: DiagnosticSink) {
        self.doc = doc
        self.node = node
        self.sink = sink
        self.context = context
        guard let mapping = node.mapping else {
            sink.add(doc.location(node), "\(context) must be a mapping of keys to values")
            return nil
        }
        entries = mapping.map { ($0.key, $0.value) }
    }

    /// The value node of `key`, if present; records that `key` is a known key.
    public func value(_ key: String) -> Yams.Node? {
        known.append(key)
        return entries.first { $0.key.string == key }?.value
    }

    /// The location of `key` itself, or of the mapping when the key is absent.
    public func keyLocation(_ key: String) -> SourceLocation {
        doc.location(entries.first { $0.key.string == key }?.key ?? node)
    }

    public func string(_ key: String, required: Bool = false) -> (String, SourceLocation)? {
        guard let v = value(key) else {
            if required { sink.add(doc.location(node), "\(context) is missing '\(key)'") }
            return nil
        }
        guard case .scalar(let s) = v else {
            sink.add(doc.location(v), "'\(key)' must be a single value, not a list or mapping")
            return nil
        }
        if s.string.isEmpty && s.style == .plain {
            if required { sink.add(doc.location(v), "'\(key)' is empty") }
            return nil
        }
        return (s.string, doc.location(v))
    }

    public func int(_ key: String, range: ClosedRange<Int>, required: Bool = false) -> Int? {
        guard let (s, loc) = string(key, required: required) else { return nil }
        guard let n = Int(s), range.contains(n) else {
            sink.add(loc, "'\(key)' must be a whole number from \(range.lowerBound) to \(range.upperBound), not '\(s)'")
            return nil
        }
        return n
    }

    public func bool(_ key: String) -> Bool? {
        guard let (s, loc) = string(key) else { return nil }
        switch s.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default:
            sink.add(loc, "'\(key)' must be true or false, not '\(s)'")
            return nil
        }
    }

    /// A list of scalars (`[a, b]` or a block list); a lone scalar is taken as a list of one.
    public func stringList(_ key: String) -> [(String, SourceLocation)]? {
        guard let v = value(key) else { return nil }
        switch v {
        case .scalar(let s): return [(s.string, doc.location(v))]
        case .sequence(let seq):
            var out: [(String, SourceLocation)] = []
            for item in seq {
                if case .scalar(let s) = item { out.append((s.string, doc.location(item))) }
                else { sink.add(doc.location(item), "each item of '\(key)' must be a single value") }
            }
            return out
        case .mapping:
            sink.add(doc.location(v), "'\(key)' must be a list, e.g. [a, b]")
            return nil
        }
    }

    /// Reports keys that were never asked for, and keys given twice. `elsewhere` names keys that
    /// belong in another section (key → "under 'run'"), so a misplaced key gets a precise hint.
    public func finish(elsewhere: [String: String] = [:]) {
        var seen: Set<String> = []
        for (key, _) in entries {
            let name = key.string ?? "?"
            if !seen.insert(name).inserted {
                sink.add(doc.location(key), "'\(name)' is given twice in \(context); keep one")
            } else if !known.contains(name) {
                if let section = elsewhere[name] {
                    sink.add(doc.location(key), "'\(name)' belongs \(section), not in \(context)")
                } else if let near = Suggestion.closest(to: name, in: known) {
                    sink.add(doc.location(key), "unknown key '\(name)' in \(context); did you mean '\(near)'?")
                } else if let near = Suggestion.closest(to: name, in: elsewhere.keys) {
                    sink.add(doc.location(key), "unknown key '\(name)' in \(context); did you mean '\(near)' \(elsewhere[near]!)?")
                } else {
                    sink.add(doc.location(key), "unknown key '\(name)' in \(context); known keys: \(known.sorted().joined(separator: ", "))")
                }
            }
        }
    }
}

/// Collects diagnostics in the order they are found.
public final class DiagnosticSink {
    public private(set) var diagnostics: [Diagnostic] = []
    public init() {}
    public func add(_ location: SourceLocation, _ message: String) {
        diagnostics.append(Diagnostic(location, message))
    }
    public func add(_ d: Diagnostic) { diagnostics.append(d) }
    public var isEmpty: Bool { diagnostics.isEmpty }
}
