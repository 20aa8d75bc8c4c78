import Foundation
import NetNS
import Testing
@testable import CloudbenchLab

/// The `cloudbench lab` commands as a user runs them: the built binary, its output and exit status.
@Suite("cloudbench lab commands", .serialized,
       .enabled(if: getuid() == 0, "needs root for network namespaces"),
       .enabled(if: TestSupport.executable("cloudbench") != nil, "build cloudbench first (swift build)"))
struct LabCommandTests {
    let bin = TestSupport.executable("cloudbench") ?? ""

    @Test("without root, every lab command says so in one line and exits 2")
    func needsRoot() throws {
        // A copy nobody can run, wherever the checkout lives (a clone under /root is closed to others).
        let dir = NSTemporaryDirectory() + "cbl-test-nonroot-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o755])
        let copy = dir + "/cloudbench"
        try FileManager.default.copyItem(atPath: bin, toPath: copy)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: copy)
        for sub in [["up"], ["down"], ["status"], ["exec", "--", "true"]] {
            let r = try TestSupport.execute(["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                             copy, "lab"] + sub)
            #expect(r.status == 2, "lab \(sub[0])")
            #expect(r.stderr == "cloudbench lab: needs root (network namespaces); run it with sudo\n", "lab \(sub[0])")
            #expect(r.stdout == "")
        }
    }

    @Test("lab up, status, exec and down work end to end, and exec passes the exit status through")
    func upExecDown() throws {
        let config = TestSupport.configuration("c", third: 94)
        let opts = ["--name", config.name, "--state-dir", config.stateDirectory]
        let inventoryOut = NSTemporaryDirectory() + "cbl-test-inventory-\(getpid()).yaml"
        defer {
            _ = try? TestSupport.execute([bin, "lab", "down"] + opts)
            _ = try? Lab(configuration: config).down()
            try? FileManager.default.removeItem(atPath: inventoryOut)
        }
        let up = try TestSupport.execute([bin, "lab", "up", "--profile", TestSupport.profilePath("small"),
                                          "--subnet", "10.231.94", "--overlay-subnet", "10.231.95",
                                          "--inventory-out", inventoryOut] + opts)
        #expect(up.status == 0, "\(up.stderr)")
        #expect(up.stdout.contains("lab '\(config.name)' is up: 4 instances of profile small"))
        #expect(try String(contentsOfFile: inventoryOut, encoding: .utf8)
            == String(contentsOfFile: config.stateDirectory + "/inventory.yaml", encoding: .utf8))

        let again = try TestSupport.execute([bin, "lab", "up", "--profile", TestSupport.profilePath("small"),
                                             "--subnet", "10.231.94", "--overlay-subnet", "10.231.95"] + opts)
        #expect(again.status == 0)
        #expect(again.stdout.hasPrefix("lab '\(config.name)' is already up with profile small (4 instances); nothing to do\n"))

        let status = try TestSupport.execute([bin, "lab", "status"] + opts)
        #expect(status.status == 0)
        #expect(status.stdout.hasPrefix("lab '\(config.name)': up, profile small"))
        #expect(status.stdout.split(separator: "\n").filter { $0.contains("running (pid") }.count == 4)

        // exec runs in the controller: the lab answers, the rest of the world does not exist.
        let ping = try TestSupport.execute([bin, "lab", "exec"] + opts + ["--", "ping", "-c", "1", "-W", "2", "10.231.94.10"])
        #expect(ping.status == 0, "\(ping.stderr)")
        let outside = try TestSupport.execute([bin, "lab", "exec"] + opts + ["--", "ping", "-c", "1", "-W", "1", "192.0.2.1"])
        #expect(outside.status != 0)
        #expect(outside.stderr.contains("Network is unreachable"))
        let seven = try TestSupport.execute([bin, "lab", "exec"] + opts + ["--", "sh", "-c", "echo $CLOUDBENCH_LAB_INVENTORY; exit 7"])
        #expect(seven.status == 7)
        #expect(seven.stdout == config.stateDirectory + "/inventory.yaml\n")

        let down = try TestSupport.execute([bin, "lab", "down"] + opts)
        #expect(down.status == 0)
        #expect(down.stdout == "lab '\(config.name)' is down: removed 6 namespaces, ended 4 processes, deleted \(config.stateDirectory)\n")
        #expect(TestSupport.leftovers(of: config, pids: []) == [])
        let gone = try TestSupport.execute([bin, "lab", "status"] + opts)
        #expect(gone.status == 1)
        #expect(try TestSupport.execute([bin, "lab", "down"] + opts).stdout == "lab '\(config.name)': nothing to remove\n")
        let notUp = try TestSupport.execute([bin, "lab", "exec"] + opts + ["--", "true"])
        #expect(notUp.status == 1)
        #expect(notUp.stderr == "cloudbench lab: lab '\(config.name)' is not up (no namespace cbl-\(config.name)-ctl); run `cloudbench lab up` first\n")
    }

    @Test("lab down cleans up after a lab up killed with SIGKILL while it started sshd")
    func killedUp() throws {
        let config = TestSupport.configuration("k", third: 96)
        let opts = ["--name", config.name, "--state-dir", config.stateDirectory]
        let files = LabFiles(directory: config.stateDirectory)
        defer { _ = try? Lab(configuration: config).down() }
        // The reference profile's 24 sshd take long enough to be caught half-way.
        let process = try ProcessRunner.start([bin, "lab", "up", "--profile", TestSupport.profilePath("reference-2015"),
                                               "--subnet", "10.231.96", "--overlay-subnet", "10.231.97"] + opts)
        let deadline = Date().addingTimeInterval(20)
        while files.allPidFiles().count < 3, process.isRunning, Date() < deadline { usleep(2_000) }
        process.send(SIGKILL)
        process.waitUntilExit()
        let pids = files.allPidFiles().compactMap(ProcessTable.pid(inFile:))
        #expect(pids.count >= 3)
        #expect(LabState.read(files)?.complete == false, "lab up finished before it could be killed")
        #expect(!Namespace.existing(prefix: config.namespacePrefix).isEmpty)

        let down = try TestSupport.execute([bin, "lab", "down"] + opts)
        #expect(down.status == 0, "\(down.stderr)")
        #expect(TestSupport.leftovers(of: config, pids: pids) == [])
    }

    @Test("Ctrl-C during lab up removes what it had built")
    func interruptedUp() throws {
        let config = TestSupport.configuration("i", third: 102)
        let opts = ["--name", config.name, "--state-dir", config.stateDirectory]
        let files = LabFiles(directory: config.stateDirectory)
        defer { _ = try? Lab(configuration: config).down() }
        let err = Pipe()
        let process = try ProcessRunner.start([bin, "lab", "up", "--profile", TestSupport.profilePath("reference-2015"),
                                               "--subnet", "10.231.102", "--overlay-subnet", "10.231.103"] + opts, stderr: err)
        let deadline = Date().addingTimeInterval(20)
        while files.allPidFiles().count < 3, process.isRunning, Date() < deadline { usleep(2_000) }
        let pids = files.allPidFiles().compactMap(ProcessTable.pid(inFile:))
        kill(process.processIdentifier, SIGINT)
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 1)
        #expect(stderr == "cloudbench lab: interrupted; removed what `lab up` had built\n")
        #expect(pids.count >= 3)
        #expect(TestSupport.leftovers(of: config, pids: pids) == [])
    }

    @Test("lab check measures every link against its target")
    func check() throws {
        let config = TestSupport.configuration("m", third: 98)
        let opts = ["--name", config.name, "--state-dir", config.stateDirectory]
        defer { _ = try? Lab(configuration: config).down() }
        let up = try TestSupport.execute([bin, "lab", "up", "--profile", TestSupport.profilePath("small"),
                                          "--subnet", "10.231.98", "--overlay-subnet", "10.231.99"] + opts)
        #expect(up.status == 0, "\(up.stderr)")
        let check = try TestSupport.execute([bin, "lab", "check", "--seconds", "2", "--pair", "fast"] + opts)
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        let rows = check.stdout.split(separator: "\n")
        #expect(rows.count == 3)
        #expect(rows.dropFirst().allSatisfy { $0.hasPrefix("fast") && $0.contains("50 MB/s") })
    }
}

/// The check the lead switches to once cloudbench-agent is merged: the agent itself measures each link.
@Suite("Lab links measured by cloudbench-agent", .serialized,
       .enabled(if: getuid() == 0, "needs root for network namespaces"),
       .enabled(if: TestSupport.workingAgent() != nil, "no working cloudbench-agent built (or set CLOUDBENCH_AGENT)"))
struct LabAgentCheckTests {
    @Test("the agent measures each emulated instance of the small profile within 3 %")
    func agentMeasuresLinks() throws {
        let agent = try #require(TestSupport.workingAgent())
        let config = TestSupport.configuration("g", third: 100)
        let lab = Lab(configuration: config)
        let (profile, text) = try TestSupport.loadProfile("small")
        defer { _ = try? lab.down() }
        _ = try lab.up(profile: profile, profileText: text)
        let measured = try LinkCheck.run(layout: try lab.currentLayout(), tool: AgentGoodputTool(binary: agent), seconds: 3)
        #expect(measured.count == 4)
        for m in measured {
            #expect(m.isWithin(0.03), "\(m.pair) \(m.from.role) -> \(m.to.role): \(m.measured) for \(m.target)")
        }
        #expect(try lab.down().leftovers == [])
    }
}
