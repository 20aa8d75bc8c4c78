import Foundation

/// A small JSON value whose numbers keep their exact text, so prices become `Decimal` without a detour
/// through `Double`. For the pricing APIs' pages, never for the AWS offer file.
public indirect enum JSONNode: Sendable, Equatable {
    case object([String: JSONNode])
    case array([JSONNode])
    case string(String)
    case number(String)
    case bool(Bool)
    case null

    public subscript(key: String) -> JSONNode? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    public var string: String? { if case .string(let s) = self { return s }; return nil }
    public var array: [JSONNode]? { if case .array(let a) = self { return a }; return nil }
    public var object: [String: JSONNode]? { if case .object(let o) = self { return o }; return nil }
    public var bool: Bool? { if case .bool(let b) = self { return b }; return nil }
    public var isNull: Bool { self == .null }

    /// A number, or a string holding a plain decimal number (the AWS offer files quote their prices).
    public var decimal: Decimal? {
        switch self {
        case .number(let t): return Decimal(string: t, locale: Locale(identifier: "en_US_POSIX"))
        case .string(let s):
            guard JSONStreamParser<TreeBuilder>.isValidNumber(Array(s.trimmingCharacters(in: .whitespaces).utf8)) else { return nil }
            return Decimal(string: s.trimmingCharacters(in: .whitespaces), locale: Locale(identifier: "en_US_POSIX"))
        default: return nil
        }
    }

    /// Parses a whole document.
    public static func parse(_ bytes: [UInt8]) throws -> JSONNode {
        let builder = TreeBuilder()
        var parser = JSONStreamParser(handler: builder)
        try bytes.withUnsafeBytes { try parser.feed($0) }
        try parser.finish()
        return builder.root ?? .null
    }

    public static func parse(_ text: String) throws -> JSONNode { try parse(Array(text.utf8)) }
}

/// Builds a `JSONNode` from parser events.
public final class TreeBuilder: JSONEventHandler {
    private enum Frame { case object([String: JSONNode], key: String?), array([JSONNode]) }
    private var frames: [Frame] = []
    private var pendingKey: String?
    public private(set) var root: JSONNode?

    public init() {}

    private func add(_ value: JSONNode) {
        guard let top = frames.popLast() else { root = value; return }
        switch top {
        case .object(var o, let key):
            o[key ?? ""] = value
            frames.append(.object(o, key: nil))
        case .array(var a):
            a.append(value)
            frames.append(.array(a))
        }
    }

    public func startObject() { frames.append(.object([:], key: nil)) }
    public func startArray() { frames.append(.array([])) }
    public func endObject() {
        guard case .object(let o, _) = frames.popLast() else { return }
        add(.object(o))
    }
    public func endArray() {
        guard case .array(let a) = frames.popLast() else { return }
        add(.array(a))
    }
    public func key(_ utf8: UnsafeBufferPointer<UInt8>) {
        guard case .object(let o, _) = frames.popLast() else { return }
        frames.append(.object(o, key: String(decoding: utf8, as: UTF8.self)))
    }
    public func string(_ utf8: UnsafeBufferPointer<UInt8>) { add(.string(String(decoding: utf8, as: UTF8.self))) }
    public func number(_ text: UnsafeBufferPointer<UInt8>) { add(.number(String(decoding: text, as: UTF8.self))) }
    public func literal(_ value: Bool?) { add(value.map(JSONNode.bool) ?? .null) }
}
