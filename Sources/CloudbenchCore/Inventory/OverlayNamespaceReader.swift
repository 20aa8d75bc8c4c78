import Yams

/// Reads the mapping form of an overlay address, `{ address: IP, netns: "KIND:NAME" }`.
enum OverlayNamespaceReader {
    /// The address's node and the namespace (nil when `netns` is absent: the host's own); nil
    /// when the mapping has a problem (recorded in `sink`, with its position).
    static func read(_ node: Yams.Node, doc: YAMLDocument, overlay: String,
                     sink: DiagnosticSink) -> (Yams.Node, OverlayNamespace?)? {
        guard let r = MappingReader(node, in: doc, context: "overlay '\(overlay)'", sink: sink) else { return nil }
        let before = sink.diagnostics.count
        _ = r.string("address", required: true)
        let address = r.value("address")
        var namespace: OverlayNamespace?
        if let (text, loc) = r.string("netns") {
            switch OverlayNamespace.parse(text) {
            case .success(let ns): namespace = ns
            case .failure(let problem): sink.add(loc, "\(problem) (overlay '\(overlay)')")
            }
        }
        r.finish()
        guard sink.diagnostics.count == before, let address else { return nil }
        return (address, namespace)
    }
}
