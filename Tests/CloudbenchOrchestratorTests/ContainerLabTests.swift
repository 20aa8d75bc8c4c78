import Foundation
import NetNS
import Testing

/// The `container:NAME` form of an overlay namespace, end to end: real Podman containers (from a
/// local image made here of busybox, never a pulled one) on the lab's two instances, each wired
/// like a Calico pod (a veth into the container's namespace, a /32 route), named in the inventory
/// by container name; cloudbench finds each through `podman inspect` over SSH and runs the agent
/// inside it.
///
/// Podman runs its containers with runc here: this machine's cgroups are in hybrid mode, which
/// crun (Podman's default runtime on Debian 12) refuses; and with low rlimits, since the sandbox
/// may not raise them.
@Suite("containers on the lab", .enabled(if: getuid() == 0, "needs root for the lab"), .serialized)
struct ContainerLabTests {
    static let podman = ["podman", "--runtime", "runc"]

    @Test("container:NAME overlay addresses: found with podman inspect, the agents run inside the containers, and leave nothing there")
    func podmanContainers() throws {
        let tag = "cbt\(getpid() % 100000)"
        let image = "localhost/cloudbench-test-rootfs-\(tag):1"
        let dir = NSTemporaryDirectory() + "cb-rootfs-\(tag)"
        try FileManager.default.createDirectory(atPath: "\(dir)/root/bin", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.copyItem(atPath: "/bin/busybox", toPath: "\(dir)/root/bin/busybox")
        try FileManager.default.createSymbolicLink(atPath: "\(dir)/root/bin/sleep", withDestinationPath: "busybox")
        _ = try ProcessRunner.check(["tar", "-C", "\(dir)/root", "-cf", "\(dir)/root.tar", "."])
        _ = try ProcessRunner.check(Self.podman + ["import", "-q", "\(dir)/root.tar", image])
        defer { _ = try? ProcessRunner.check(Self.podman + ["rmi", "-f", image]) }

        let lab = try LabRun(tag: "o", third: 222, profile: "pods-lab")
        defer { lab.down() }
        let nodes = try LabNode.nodes(of: lab)
        let names = ["\(tag)-bench-a", "\(tag)-bench-b"]
        defer { for name in names { _ = try? ProcessRunner.check(Self.podman + ["rm", "-f", "-t", "0", name]) } }
        var pids: [Int32] = []
        for (node, name) in zip(nodes, names) {
            _ = try ProcessRunner.check(Self.podman + ["run", "-d", "--name", name, "--network", "none", "--ulimit", "nofile=1024:1024",
                                                      "--ulimit", "nproc=1024:1024", image, "/bin/sleep", "900"])
            let pid = try #require(Int32(try ProcessRunner.check(Self.podman + ["inspect", "-f", "{{.State.Pid}}", name])
                .trimmingCharacters(in: .whitespacesAndNewlines)), "no pid for \(name)")
            try #require(pid > 0)
            pids.append(pid)
            // The container's namespace under the pod's name (the lab's prefix: `lab down` detaches it),
            // then wired as a Calico pod is.
            _ = try ProcessRunner.check(["ip", "netns", "attach", node.pod, String(pid)])
            try node.build(agent: "\(LabRun.bin)/cloudbench-agent", podExists: true)
        }
        let overlays = [
            "bench: { address: \(nodes[0].podAddress), netns: \"container:\(names[0])\" }",
            "bench: { address: \(nodes[1].podAddress), netns: \"container:\(names[1])\" }",
        ]
        try LabNode.addOverlays(to: lab, server: overlays[0], client: overlays[1], paths: "[bench]")

        let r = try lab.compare()
        #expect(r.status == 0, "\(r.stdout)\n\(r.stderr)")
        let records = try lab.records()
        // The pod addresses are only in the containers: a server outside its container would not be reached.
        #expect(records.count == 2 && records.allSatisfy { $0["status"] as? String == "ok" && $0["path"] as? String == "bench" },
                "\(records.map { $0["error"] ?? "" })")
        let bw = records.first { $0["test"] as? String == "tcp_bw" }?["value"] as? Double ?? 0
        #expect(bw > 0.9 * 50, "tcp_bw in the containers: \(bw) MB/s on a 50 MB/s link")
        print("containers on the lab: tcp_bw \(bw) MB/s between podman containers \(names)")
        #expect(lab.leftovers() == [])
        for pid in pids {
            let inside = ((try? ProcessRunner.check(["nsenter", "--net=/proc/\(pid)/ns/net", "ss", "-Htlnp"])) ?? "")
            #expect(!inside.contains("cloudbench-agent"), "an agent still listens in the container: \(inside)")
        }

        // `preflight` finds each container's namespace and the address in it, ahead of a run.
        let preflight = ["\(LabRun.bin)/cloudbench", "lab", "exec", "--name", lab.name, "--", "\(LabRun.bin)/cloudbench", "preflight",
                         lab.inventory, "--providers", "\(LabRun.root)/providers"]
        let before = try ProcessRunner.run(preflight, deadline: 120)
        #expect(before.status == 0, "\(before.stdout)\n\(before.stderr)")
        for (i, name) in names.enumerated() {
            #expect(before.stdout.contains("namespace container:\(name) at /proc/\(pids[i])/ns/net holds \(nodes[i].podAddress)"), "\(before.stdout)")
        }

        // A container that is not running is named, and its pair fails alone with the reason; preflight says so first.
        _ = try ProcessRunner.check(Self.podman + ["stop", "-t", "0", names[0]])
        let stopped = try ProcessRunner.run(preflight, deadline: 120)
        #expect(stopped.status == 1 && stopped.stdout.contains("not usable:") && stopped.stdout.contains("no running container named \(names[0])"),
                "\(stopped.status) \(stopped.stdout)")
        let again = try lab.compare()
        #expect(again.status != 0)
        let failed = try lab.records().filter { $0["status"] as? String == "failed" }
        #expect(!failed.isEmpty && failed.allSatisfy { ($0["error"] as? String ?? "").contains("no running container named \(names[0])") },
                "\(failed.map { $0["error"] ?? "" })")
    }
}
