import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// A small element tree of an EC2 Query API response: names without namespaces, text trimmed.
///
/// Responses are bounded by the HTTP client's body limit; depth and element count are bounded
/// here too, so a hostile endpoint cannot make the tree unbounded.
public final class XMLNode {
    public let name: String
    public internal(set) var text = ""
    public internal(set) var children: [XMLNode] = []

    init(name: String) { self.name = name }

    /// The first child called `name`.
    public func child(_ name: String) -> XMLNode? { children.first { $0.name == name } }

    /// The trimmed text of the first child called `name`; nil when absent or empty.
    public func value(_ name: String) -> String? {
        guard let t = child(name)?.text, !t.isEmpty else { return nil }
        return t
    }

    /// The `<item>` children of the child called `name` (EC2's list shape).
    public func items(_ name: String) -> [XMLNode] { child(name)?.children.filter { $0.name == "item" } ?? [] }

    /// `key` → `value` of a `tagSet`.
    public var tags: [String: String] {
        items("tagSet").reduce(into: [:]) { out, item in
            if let k = item.value("key") { out[k] = item.value("value") ?? "" }
        }
    }

    static let maxDepth = 64
    static let maxElements = 200_000

    /// Parses `bytes`; nil when they are not well-formed XML or exceed the bounds.
    public static func parse(_ bytes: [UInt8]) -> XMLNode? {
        let builder = TreeBuilder()
        let parser = XMLParser(data: Data(bytes))
        parser.shouldProcessNamespaces = true
        parser.delegate = builder
        // An unclosed element also fails: libxml2 may recover from what EC2 never sends.
        guard parser.parse(), !builder.failed, builder.stack.isEmpty, let root = builder.root else { return nil }
        return root
    }
}

private final class TreeBuilder: NSObject, XMLParserDelegate {
    var root: XMLNode?
    var stack: [XMLNode] = []
    var count = 0
    var failed = false

    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]) {
        count += 1
        guard stack.count < XMLNode.maxDepth, count < XMLNode.maxElements else {
            failed = true
            parser.abortParsing()
            return
        }
        let node = XMLNode(name: elementName)
        if let parent = stack.last { parent.children.append(node) } else if root == nil { root = node }
        stack.append(node)
    }

    func parser(_ parser: XMLParser, parseErrorOccurred parseError: Error) { failed = true }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        guard let top = stack.last, top.text.utf8.count < 1 << 20 else { return }
        top.text += string
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName qName: String?) {
        if let top = stack.popLast() { top.text = top.text.trimmingCharacters(in: .whitespacesAndNewlines) }
    }
}
