import CloudbenchCore

/// Finds an overlay namespace on its host: the commands that print where it is, and the pure
/// readers of what they print. Names were checked when the inventory was read
/// (`OverlayNamespace.parse`), so they go into commands as they are.
public enum NamespaceLocator {
    /// What the first command's output leads to.
    public enum Step: Equatable, Sendable {
        /// The namespace's file (`/proc/PID/ns/net`, `/var/run/netns/NAME`).
        case found(String)
        /// A pod sandbox id: ask `crictl inspectp` for its namespace next.
        case sandbox(String)
        case problem(String)
    }

    /// The first command: prints the namespace's path (container, netns, path) or `crictl pods`'s JSON (pod).
    public static func command(_ ns: OverlayNamespace) -> String {
        switch ns {
        case .container(let name):
            return "found=; for t in docker podman; do command -v $t >/dev/null 2>&1 || continue; found=1; "
                + "p=$($t inspect -f '{{.State.Pid}}' \(name) 2>/dev/null | head -n 1); "
                + "case \"$p\" in ''|0|*[!0-9]*) ;; *) echo /proc/$p/ns/net; exit 0;; esac; done; "
                + "if [ -z \"$found\" ]; then echo 'neither docker nor podman is installed' >&2; "
                + "else echo 'no running container named \(name) (docker or podman)' >&2; fi; exit 1"
        case .pod(let namespace, _):
            return "command -v crictl >/dev/null 2>&1 || { echo 'crictl is not installed' >&2; exit 1; }; "
                + "crictl pods --namespace \(namespace) -o json"
        case .named(let name):
            return "if [ -e /var/run/netns/\(name) ]; then echo /var/run/netns/\(name); else echo 'no network namespace \(name) (ip netns list)' >&2; exit 1; fi"
        case .path(let path):
            return "if [ -e \(path) ]; then echo \(path); else echo 'no namespace at \(path)' >&2; exit 1; fi"
        }
    }

    /// Reads the first command's output (status 0).
    public static func read(_ ns: OverlayNamespace, output: String) -> Step {
        switch ns {
        case .pod(let namespace, let name):
            // crictl's documented JSON: {"items": [{"id", "metadata": {"name", "namespace"}, "state": "SANDBOX_READY"}]}
            guard let json = try? JSONValue.parse(output), case .array(let items)? = json["items"] else {
                return .problem("crictl pods printed no pod list")
            }
            for item in items.prefix(100_000) {
                guard item["metadata"]?["name"]?.string == name, item["metadata"]?["namespace"]?.string == namespace,
                      item["state"]?.string == "SANDBOX_READY", let id = item["id"]?.string,
                      !id.isEmpty, id.count <= 128, id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else { continue }
                return .sandbox(id)
            }
            return .problem("no ready pod \(namespace)/\(name) (crictl pods)")
        default:
            let path = output.split(separator: "\n").first.map(String.init) ?? ""
            guard case .success = OverlayNamespace.parse("path:" + path) else { return .problem("cannot read the namespace's path from '\(output.prefix(80))'") }
            return .found(path)
        }
    }

    /// The second command, for a pod: its sandbox as JSON.
    public static func inspectCommand(sandbox id: String) -> String { "crictl inspectp -o json \(id)" }

    /// The network namespace's path in `crictl inspectp`'s JSON (`info.runtimeSpec.linux.namespaces`).
    public static func readInspect(_ output: String) -> Step {
        guard let json = try? JSONValue.parse(output),
              case .array(let spaces)? = json["info"]?["runtimeSpec"]?["linux"]?["namespaces"] else {
            return .problem("crictl inspectp printed no runtime spec")
        }
        for s in spaces.prefix(64) where s["type"]?.string == "network" {
            if let p = s["path"]?.string, case .success = OverlayNamespace.parse("path:" + p) { return .found(p) }
            if let p = s["path"]?.string { return .problem("the pod's network namespace '\(p)' is not a path cloudbench reads") }
        }
        if let pid = json["info"]?["pid"]?.double, pid > 0, pid < Double(1 << 22) { return .found("/proc/\(Int(pid))/ns/net") }
        return .problem("the pod's sandbox names no network namespace")
    }

    /// Prints nothing and succeeds when `address` is on an interface of the namespace at `path`;
    /// otherwise says which addresses it has.
    public static func addressCheck(path: String, address: String) -> String {
        "command -v nsenter >/dev/null 2>&1 || { echo 'nsenter is not installed (util-linux)' >&2; exit 1; }; "
            + "a=$(nsenter --net=\(path) ip -o addr show) || exit 1; "
            + "echo \"$a\" | grep -qF ' \(address)/' && exit 0; "
            + "echo \"address \(address) is not on any interface there; it has: $(echo \"$a\" | awk '{print $4}' | tr '\\n' ' ')\" >&2; exit 1"
    }

    /// `command` run inside the namespace at `path` (nil: the host's own).
    public static func enter(_ path: String?, _ command: String) -> String {
        guard let path else { return command }
        return "nsenter --net=\(path) " + command
    }
}
