@testable import CloudbenchCore
@testable import CloudbenchOrchestrator
import Foundation
import Testing

/// The run's agent servers against a scripted host: one per host and network namespace.
@Suite("Agent servers: one per host and network namespace")
struct AgentServersTests {
    @Test("a cell whose server is in a pod's namespace gets a server started inside it; the host's own stays shared")
    func perNamespace() async throws {
        let inventory = fakeInventory()
        let script = FakeHostScript()
        let shell = FakeShell(label: "server") { try await script.answer($0) }
        let host = RemoteHost(shell: shell, facts: HostFacts(arch: "x86_64", kernel: "6.1", home: "/root", uid: 0, glibc: "2.36", sudo: .missing),
                              sudoAllowed: false, agentSHA: "0")
        let (pair, cells) = try #require(Plan(inventory: inventory, seed: 1).cellsByPair.first)
        let job = CellJob(runID: "r", pair: pair, cell: try #require(cells.first), attempt: 1, run: inventory.run,
                          serverAgent: "/a", clientAgent: "/a", serverLayout: host.layout, clientLayout: host.layout, price: nil, tag: "1")
        let servers = AgentServers(deadlineSeconds: 600)
        let pod = "/proc/4321/ns/net"
        let own = try await servers.server(on: host, for: job)
        let ownAgain = try await servers.server(on: host, for: job)
        let inPod = try await servers.server(on: host, netns: pod, for: job)
        let inPodAgain = try await servers.server(on: host, netns: pod, for: job)
        #expect(own.key == ownAgain.key)
        #expect(inPod.key == inPodAgain.key)
        #expect(own.key != inPod.key)
        var starts = shell.ran.filter { $0.contains(" serve --listen ") }
        let running = await servers.count
        #expect(starts.count == 2 && running == 2)
        #expect(!starts[0].contains("nsenter") && starts[0].contains("/serve.pid"))
        #expect(starts[1].contains("nohup nsenter --net=\(pod) /a serve --listen 0.0.0.0:\(inventory.run.agentPort) "), "\(starts[1])")
        #expect(starts[1].contains("/serve-ns-_proc_4321_ns_net.pid") && !starts[1].contains("/serve.pid"))
        #expect(inPod.invocation.netns == pod && own.invocation.netns == nil)
        // The pod's server ended: only it is started again.
        await servers.forget(host, netns: pod)
        let ownStill = try await servers.server(on: host, for: job)
        #expect(ownStill.key == own.key)
        _ = try await servers.server(on: host, netns: pod, for: job)
        starts = shell.ran.filter { $0.contains(" serve --listen ") }
        #expect(starts.count == 3 && starts[2].contains("nsenter --net=\(pod) "))
        // A reconnect's cleanup ends them all.
        await servers.forget(host)
        let left = await servers.count
        #expect(left == 0)
    }
}
