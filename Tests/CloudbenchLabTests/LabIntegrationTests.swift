import Foundation
import NetNS
import Testing
@testable import CloudbenchLab

@Suite("A lab in network namespaces", .serialized, .enabled(if: getuid() == 0, "needs root for network namespaces"))
struct LabIntegrationTests {
    @Test("a small lab comes up isolated, answers SSH with the keys it declares, carries each goodput within 3 %, and leaves nothing behind")
    func smallLab() throws {
        let config = TestSupport.configuration("u", third: 90)
        let lab = Lab(configuration: config)
        let (profile, text) = try TestSupport.loadProfile("small")
        let rootBefore = try TestSupport.rootInterfaces()
        var pids: [Int32] = []
        defer {
            _ = try? lab.down()
            #expect(TestSupport.leftovers(of: config, pids: pids) == [])
        }

        let outcome = try lab.up(profile: profile, profileText: text)
        guard case .created(let state, replacedPartial: false) = outcome else {
            Issue.record("expected a fresh lab, got \(outcome)")
            return
        }
        pids = Array(state.sshdPids.values)
        #expect(pids.count == 4)
        #expect(state.complete)
        // The lab added nothing to the root namespace: every interface lives in its own namespaces.
        #expect(try TestSupport.rootInterfaces() == rootBefore)

        // Isolation: no lab namespace has a default route, and the controller reaches nothing outside.
        for ns in state.namespaces { #expect(!Namespace(existing: ns).hasDefaultRoute(), "\(ns) has a default route") }
        #expect(throws: (any Error).self) { try lab.controller.connectTCP(host: "192.0.2.1", port: 22, timeout: 1) }
        #expect(throws: CommandError.self) { try lab.controller.run(["ping", "-c", "1", "-W", "1", "192.0.2.1"]) }

        // Every instance's own sshd answers from the controller.
        for instance in state.instances {
            let banner = try SSHBanner.read(from: lab.controller, host: instance.address, timeout: 3)
            #expect(banner.hasPrefix("SSH-2.0-OpenSSH"), "\(instance.id) sent '\(banner)'")
        }

        // OpenSSH logs in as root with the lab key and verifies the host key against the lab's known_hosts...
        let first = state.instances[0], second = state.instances[1]
        func ssh(_ knownHosts: String, _ host: String) throws -> String {
            try lab.controller.run(["ssh", "-i", lab.files.identity, "-o", "UserKnownHostsFile=\(knownHosts)",
                                    "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-o", "ConnectTimeout=5",
                                    "root@\(host)", "ip -o -4 addr show dev eth0"])
        }
        #expect(try ssh(lab.files.knownHosts, first.address).contains("\(first.address)/24"))
        // ...and refuses a host whose key is not the one declared for its address.
        let wrong = NSTemporaryDirectory() + "cbl-test-wrong-known-hosts-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: wrong) }
        let lines = try String(contentsOfFile: lab.files.knownHosts, encoding: .utf8).split(separator: "\n")
        let secondKey = lines.first { $0.hasPrefix(second.address + " ") }!.split(separator: " ").dropFirst()
        try Data("\(first.address) \(secondKey.joined(separator: " "))\n".utf8).write(to: URL(fileURLWithPath: wrong))
        #expect(throws: CommandError.self) { try ssh(wrong, first.address) }

        // Like separate machines, instances keep their own home and /tmp: a file uploaded to one
        // is on that one only, and never on the machine running the lab.
        let marker = "cbl-private-test-\(getpid())"
        let home = SSHServerLaunch.rootHome()
        defer { try? FileManager.default.removeItem(atPath: "\(home)/\(marker)") }
        func run(_ host: String, _ command: String) throws -> String {
            try lab.controller.run(["ssh", "-i", lab.files.identity, "-o", "UserKnownHostsFile=\(lab.files.knownHosts)",
                                    "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-o", "ConnectTimeout=5",
                                    "root@\(host)", command])
        }
        #expect(try run(first.address, "echo one > ~/\(marker) && echo tmp > /tmp/\(marker) && cat ~/\(marker)") == "one\n")
        #expect(try run(second.address, "ls ~/\(marker) /tmp/\(marker) 2>/dev/null; echo done") == "done\n")
        #expect(!FileManager.default.fileExists(atPath: "\(home)/\(marker)"))
        #expect(!FileManager.default.fileExists(atPath: "/tmp/\(marker)"))

        // The external overlay carries traffic between instances on its own addresses.
        let (server, client) = try #require(try lab.currentLayout().instances(of: "fast"))
        try Namespace(existing: client.namespace).run(["ping", "-c", "1", "-W", "2", try #require(server.overlayAddress)])
        // Without address learning, the peer's MAC by a static entry (as Flannel builds it).
        let overlayName = try #require(profile.overlay?.name)
        let clientNS = Namespace(existing: client.namespace)
        #expect(try clientNS.run(["ip", "-d", "link", "show", overlayName]).contains(" nolearning "))
        let fdb = try clientNS.run(["bridge", "fdb", "show", "dev", overlayName]).split(separator: "\n")
        #expect(fdb.contains { $0.hasPrefix("02:cb:ee:") && $0.contains("dst \(server.address) self permanent") }, "\(fdb)")

        // Idempotent: the same lab again changes nothing; another profile under the same name is refused.
        guard case .alreadyUp = try lab.up(profile: profile, profileText: text) else {
            Issue.record("a second lab up rebuilt a healthy lab")
            return
        }
        var other = profile
        other.pairs.removeLast()
        #expect(throws: LabError.self) { try lab.up(profile: other, profileText: "") }

        // The emulated goodput, measured both ways on each pair.
        let measured = try LinkCheck.run(layout: try lab.currentLayout(), tool: IPerf3Tool(), seconds: 3)
        #expect(measured.count == 4)
        for m in measured {
            #expect(m.isWithin(0.03), "\(m.pair) \(m.from.role) -> \(m.to.role): \(m.measured) for \(m.target)")
        }

        let report = try lab.down()
        #expect(report.leftovers == [])
        #expect(report.namespaces.count == 6)
        #expect(TestSupport.leftovers(of: config, pids: pids) == [])
        #expect(try TestSupport.rootInterfaces() == rootBefore)
    }

    @Test("lab down removes what an interrupted lab up left, at any stage", arguments: [3, 6, 10])
    func interruptedUpIsCleaned(abandonAfter steps: Int) throws {
        let config = TestSupport.configuration("p\(steps)", third: 92)
        let lab = Lab(configuration: config)
        let (profile, text) = try TestSupport.loadProfile("small")
        defer { _ = try? lab.down() }
        #expect(throws: LabBuilder.Abandoned.self) {
            try lab.up(profile: profile, profileText: text, inventoryOut: nil, log: { _ in }, abandonAfterSteps: steps)
        }
        let pids = LabFiles(directory: config.stateDirectory).allPidFiles().compactMap(ProcessTable.pid(inFile:))
        #expect(pids.count == (steps >= 10 ? 1 : 0))
        let status = lab.status()
        #expect(!status.isAbsent && !status.isUp)
        #expect(!status.namespaces.isEmpty)

        let report = try lab.down()
        #expect(report.leftovers == [])
        #expect(TestSupport.leftovers(of: config, pids: pids) == [])
        #expect(lab.status().isAbsent)
    }

    @Test("a lab up that fails removes what it built before it reports the error", arguments: [4, 10])
    func failedUpCleansUp(failAfter steps: Int) throws {
        let config = TestSupport.configuration("f\(steps)", third: 92)
        let lab = Lab(configuration: config)
        let (profile, text) = try TestSupport.loadProfile("small")
        defer { _ = try? lab.down() }
        #expect(throws: LabError("injected failure after step \(steps)")) {
            try lab.up(profile: profile, profileText: text, inventoryOut: nil, log: { _ in },
                       abandonAfterSteps: nil, failAfterSteps: steps)
        }
        #expect(TestSupport.leftovers(of: config, pids: []) == [])
        #expect(lab.status().isAbsent)
    }

    @Test("lab up over a partial lab replaces it")
    func upReplacesPartial() throws {
        let config = TestSupport.configuration("r", third: 92)
        let lab = Lab(configuration: config)
        let (profile, text) = try TestSupport.loadProfile("small")
        defer { _ = try? lab.down() }
        _ = try? lab.up(profile: profile, profileText: text, inventoryOut: nil, log: { _ in }, abandonAfterSteps: 10)
        let outcome = try lab.up(profile: profile, profileText: text)
        guard case .created(_, replacedPartial: true) = outcome else {
            Issue.record("expected the partial lab to be replaced, got \(outcome)")
            return
        }
        #expect(lab.status().isUp)
        #expect(try lab.down().leftovers == [])
        #expect(TestSupport.leftovers(of: config, pids: []) == [])
    }
}
