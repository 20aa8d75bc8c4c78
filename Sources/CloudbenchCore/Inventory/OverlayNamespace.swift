/// The network namespace on a host where an overlay address lives: a pod's, a container's, a
/// named one, or one given by path. The agent runs there (`nsenter --net=…`); nothing else does.
///
/// Written `KIND:NAME` in the inventory: `container:NAME` (Docker or Podman), `pod:NAMESPACE/NAME`
/// (CRI, through `crictl`), `netns:NAME` (`ip netns`), `path:/proc/PID/ns/net` or
/// `path:/var/run/netns/NAME`. Every name is checked here, so none can carry shell syntax.
public enum OverlayNamespace: Hashable, Sendable, CustomStringConvertible {
    case container(String)
    case pod(namespace: String, name: String)
    case named(String)
    case path(String)

    public var description: String {
        switch self {
        case .container(let n): return "container:\(n)"
        case .pod(let ns, let n): return "pod:\(ns)/\(n)"
        case .named(let n): return "netns:\(n)"
        case .path(let p): return "path:\(p)"
        }
    }

    static func chars(_ s: String, _ extra: String) -> Bool {
        !s.isEmpty && s.utf8.count <= 253 && s.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || extra.contains($0)) }
    }

    /// Docker's and Podman's rule for container names.
    static func isContainerName(_ s: String) -> Bool { chars(s, "_.-") && s.first!.isLetter || chars(s, "_.-") && s.first!.isNumber }
    /// Kubernetes object names (DNS subdomains) and namespaces (DNS labels): lowercase.
    static func isKubernetesName(_ s: String) -> Bool { chars(s, ".-") && s == s.lowercased() && s.first != "-" && s.first != "." }
    static func isNetnsName(_ s: String) -> Bool { chars(s, "_.-") && s != "." && s != ".." }

    /// Parses `KIND:NAME`, or says what is wrong in one sentence.
    public static func parse(_ text: String) -> Result<OverlayNamespace, NamespaceProblem> {
        guard let colon = text.firstIndex(of: ":") else {
            return .failure(NamespaceProblem("netns '\(text)' needs a kind: container:NAME, pod:NAMESPACE/NAME, netns:NAME or path:/proc/PID/ns/net"))
        }
        let kind = String(text[..<colon]), name = String(text[text.index(after: colon)...])
        switch kind {
        case "container":
            guard isContainerName(name) else {
                return .failure(NamespaceProblem("bad container name '\(name)': letters, digits, '_', '.' and '-' only, starting with a letter or digit"))
            }
            return .success(.container(name))
        case "pod":
            let parts = name.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 2, parts[0].utf8.count <= 63, isKubernetesName(parts[0]), isKubernetesName(parts[1]) else {
                return .failure(NamespaceProblem("bad pod '\(name)': give NAMESPACE/NAME, Kubernetes names (lowercase letters, digits, '-', '.')"))
            }
            return .success(.pod(namespace: parts[0], name: parts[1]))
        case "netns":
            guard isNetnsName(name) else {
                return .failure(NamespaceProblem("bad netns name '\(name)': letters, digits, '_', '.' and '-' only"))
            }
            return .success(.named(name))
        case "path":
            let p = name.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            if p.count == 5, p[0].isEmpty, p[1] == "proc", let pid = Int(p[2]), pid > 0, pid < 1 << 22, p[3] == "ns", p[4] == "net" {
                return .success(.path(name))
            }
            for prefix in ["/var/run/netns/", "/run/netns/"] where name.hasPrefix(prefix) && isNetnsName(String(name.dropFirst(prefix.count))) {
                return .success(.path(name))
            }
            return .failure(NamespaceProblem("bad namespace path '\(name)': give /proc/PID/ns/net or /var/run/netns/NAME"))
        default:
            return .failure(NamespaceProblem("unknown netns kind '\(kind)'; use container, pod, netns or path"))
        }
    }
}

/// Why a `netns` value was refused.
public struct NamespaceProblem: Error, Equatable, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ d: String) { description = d }
}
