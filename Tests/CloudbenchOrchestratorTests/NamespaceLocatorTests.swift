import Foundation
import NetNS
import Testing
@testable import CloudbenchCore
@testable import CloudbenchOrchestrator

@Suite("Finding an overlay's namespace")
struct NamespaceLocatorTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/crictl").path

    @Test("a pod: crictl's pod list gives the ready sandbox of exactly that name, inspectp its namespace")
    func pod() throws {
        let pods = try String(contentsOfFile: "\(Self.fixtures)/pods.json", encoding: .utf8)
        let pod = OverlayNamespace.pod(namespace: "default", name: "bench-a")
        #expect(NamespaceLocator.read(pod, output: pods) == .sandbox("7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a09f8e"))
        #expect(NamespaceLocator.read(.pod(namespace: "kube-system", name: "bench-a"), output: pods)
                == .problem("no ready pod kube-system/bench-a (crictl pods)"))
        #expect(NamespaceLocator.read(pod, output: "FATA[0000] connect: connection refused") == .problem("crictl pods printed no pod list"))
        let inspect = try String(contentsOfFile: "\(Self.fixtures)/inspectp.json", encoding: .utf8)
        #expect(NamespaceLocator.readInspect(inspect) == .found("/var/run/netns/cni-3f1b2c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d"))
        // A runtime that names no path: the sandbox's pid.
        let pidOnly = #"{"info": {"pid": 48213, "runtimeSpec": {"linux": {"namespaces": [{"type": "network"}]}}}}"#
        #expect(NamespaceLocator.readInspect(pidOnly) == .found("/proc/48213/ns/net"))
        #expect(NamespaceLocator.readInspect(#"{"info": {"runtimeSpec": {"linux": {"namespaces": [{"type": "network", "path": "/tmp/x;id"}]}}}}"#)
                == .problem("the pod's network namespace '/tmp/x;id' is not a path cloudbench reads"))
    }

    @Test("the pod command against a stand-in crictl that prints crictl's JSON; a host without crictl is named")
    func standInCrictl() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cb-crictl-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let script = """
            #!/bin/sh
            # A stand-in for crictl: the documented JSON of `crictl pods -o json` and `crictl inspectp -o json`.
            case "$1" in
              pods) [ "$2 $3 $4 $5" = "--namespace default -o json" ] || exit 3; cat \(Self.fixtures)/pods.json ;;
              inspectp) [ "$2 $3" = "-o json" ] && [ "$4" = 7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a09f8e ] || exit 3
                        cat \(Self.fixtures)/inspectp.json ;;
              *) exit 3 ;;
            esac
            """
        try script.write(toFile: "\(dir)/crictl", atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: "\(dir)/crictl")
        let pod = OverlayNamespace.pod(namespace: "default", name: "bench-a")
        let env = ["PATH": "\(dir):/usr/bin:/bin"]
        let list = try ProcessRunner.run(["sh", "-c", NamespaceLocator.command(pod)], environment: env)
        #expect(list.status == 0, "\(list.stderr)")
        guard case .sandbox(let id) = NamespaceLocator.read(pod, output: list.stdout) else { Issue.record("no sandbox"); return }
        let spec = try ProcessRunner.run(["sh", "-c", NamespaceLocator.inspectCommand(sandbox: id)], environment: env)
        #expect(NamespaceLocator.readInspect(spec.stdout) == .found("/var/run/netns/cni-3f1b2c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d"))
        let none = try ProcessRunner.run(["sh", "-c", NamespaceLocator.command(pod)], environment: ["PATH": "/nonexistent"])
        #expect(none.status == 1 && none.stderr == "crictl is not installed\n")
    }

    @Test("container, netns and path commands say what is missing")
    func missing() throws {
        let c = try ProcessRunner.run(["sh", "-c", NamespaceLocator.command(.container("bench"))], environment: ["PATH": "/usr/bin:/bin"])
        let hasEngine = FileManager.default.isExecutableFile(atPath: "/usr/bin/docker") || FileManager.default.isExecutableFile(atPath: "/usr/bin/podman")
        #expect(c.status == 1 && c.stderr == (hasEngine ? "no running container named bench (docker or podman)\n" : "neither docker nor podman is installed\n"))
        let n = try ProcessRunner.run(["sh", "-c", NamespaceLocator.command(.named("cb-no-such-ns-\(getpid())"))])
        #expect(n.status == 1 && n.stderr == "no network namespace cb-no-such-ns-\(getpid()) (ip netns list)\n")
        #expect(NamespaceLocator.read(.named("x"), output: "/var/run/netns/x\n") == .found("/var/run/netns/x"))
        #expect(NamespaceLocator.enter("/var/run/netns/x", "/h/agent serve") == "nsenter --net=/var/run/netns/x /h/agent serve")
        #expect(NamespaceLocator.enter(nil, "/h/agent serve") == "/h/agent serve")
    }
}
