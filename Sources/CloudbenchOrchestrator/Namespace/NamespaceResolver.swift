import CloudbenchCore

/// Resolves an overlay namespace on a host and checks the overlay address is there: the
/// namespace's path, or a problem naming the host and what is missing.
public struct NamespaceResolver: Sendable {
    public init() {}

    /// The path of `ns` on `host`, after checking `address` is on one of its interfaces.
    public func resolve(_ ns: OverlayNamespace, address: String, on host: RemoteHost) async throws -> String {
        func fail(_ why: String) -> CellFailure { CellFailure("\(host.label): namespace \(ns): \(why)") }
        func run(_ command: String) async throws -> String {
            let out = try await host.run(command, timeout: 20, privileged: true)
            guard out.status == 0 else {
                let said = out.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
                throw fail(said.isEmpty ? "exit status \(out.status)" : String(said.split(separator: "\n").last ?? ""))
            }
            return out.stdout
        }
        var step = NamespaceLocator.read(ns, output: try await run(NamespaceLocator.command(ns)))
        if case .sandbox(let id) = step { step = NamespaceLocator.readInspect(try await run(NamespaceLocator.inspectCommand(sandbox: id))) }
        switch step {
        case .found(let path):
            _ = try await run(NamespaceLocator.addressCheck(path: path, address: address))
            return path
        case .problem(let why): throw fail(why)
        case .sandbox: throw fail("crictl gave a sandbox but no namespace")
        }
    }
}
