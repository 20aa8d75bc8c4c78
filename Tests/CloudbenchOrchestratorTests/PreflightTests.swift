@testable import CloudbenchCore
@testable import CloudbenchOrchestrator
import CloudbenchSSH
import CloudbenchTestSupport
import Foundation
import NetNS
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Preflight is compare's first stage run alone: one probe, one rule, the same verdicts.
@Suite("Preflight")
struct PreflightTests {
    @Test("glibc versions from getconf and ldd", arguments: [
        ("glibc 2.36", "2.36"),
        ("ldd (Debian GLIBC 2.36-9+deb12u4) 2.36", "2.36"),
        ("ldd (Ubuntu GLIBC 2.35-0ubuntu3.6) 2.35", "2.35"),
        ("musl libc (x86_64)", nil),
        ("", nil),
    ])
    func glibc(line: String, expected: String?) {
        #expect(HostProbe.glibcVersion(from: line) == expected)
    }

    @Test("the probe's output read into facts, sudo told apart")
    func facts() throws {
        let f = try #require(HostProbe.parse("arch=x86_64\nkernel=6.1.0\nhome=/home/ubuntu\nuid=1000\nglibc=glibc 2.35\nsudo=ok\ntool=ip\ntool=ss\n"))
        #expect(f == HostFacts(arch: "x86_64", kernel: "6.1.0", home: "/home/ubuntu", uid: 1000, glibc: "2.35", sudo: .works,
                               tools: ["ip", "ss"]))
        #expect(f.agentProblem == nil && f.canSudo && !f.isRoot)
        let old = try #require(HostProbe.parse("arch=x86_64\nhome=/root\nuid=0\nglibc=ldd (GNU libc) 2.31\nsudo=missing\n"))
        #expect(old.glibc == "2.31" && old.isRoot && old.sudo == .missing)
        #expect(old.agentProblem == "glibc 2.31 is older than 2.34, which the agent needs")
        #expect(HostProbe.parse("arch=armv7l\nhome=/root\nuid=0\nglibc=2.36\n")!.agentProblem
                == "architecture armv7l is not supported (x86_64 or aarch64)")
        #expect(HostProbe.parse("arch=x86_64\nhome=/h\nuid=5\nglibc=\nsudo=refused sudo: a password is required\n")!.sudo
                == .needsPassword)
        #expect(HostProbe.parse("arch=x86_64\nhome=/h\nuid=5\nsudo=refused u is not in the sudoers file\n")!.sudo
                == .refused("u is not in the sudoers file"))
        #expect(HostProbe.parse("kernel=6.1\n") == nil)
    }

    @Test("the probe looks for bridge, which the vxlan path runs, and reads it back among the tools")
    func bridgeTool() throws {
        #expect(HostProbe.tools.contains("bridge"))
        #expect(PathSetup.make(path: .vxlan, pair: OrchestratorValueTests.pair(), server: .init(agent: "/a", runDirectory: "/r"),
                               client: .init(agent: "/a", runDirectory: "/r"), deadline: 60, pathKey: "k")
                    .setup.allSatisfy { $0.command.contains("bridge fdb replace") })
        #expect(HostProbe.command.contains("for t in ip nohup gzip bridge; do command -v $t"))
        let f = try #require(HostProbe.parse("arch=x86_64\nhome=/root\nuid=0\ntool=ip\ntool=bridge\n"))
        #expect(f.tools == ["ip", "bridge"])
    }

    @Test("the preflight table aligns columns and lists problems beneath")
    func table() {
        let rows = [
            PreflightRow(host: "web-1", role: "server", pair: "a2", user: "ubuntu", auth: "agent", hostKey: .known,
                         arch: "x86_64", kernel: "6.1.0", glibc: "2.36", sudo: "ok", agent: "yes", problems: [], upload: "sftp+gzip"),
            PreflightRow(host: "db", role: "client", pair: "a2", user: "root", auth: "-", hostKey: .changed,
                         arch: "-", kernel: "-", glibc: "-", sudo: "n/a", agent: "-", problems: ["db (10.0.0.5:22): host key changed"]),
        ]
        #expect(PreflightTable.render(rows) == """
        HOST   ROLE    PAIR  USER    AUTH   HOST KEY  ARCH    KERNEL  GLIBC  SUDO  AGENT  UPLOAD     READY
        web-1  server  a2    ubuntu  agent  known     x86_64  6.1.0   2.36   ok    yes    sftp+gzip  yes
        db     client  a2    root    -      changed   -       -       -      n/a   -      -          NO

        db (10.0.0.5:22): host key changed

        1 of 2 hosts ready

        """)
    }

    /// Hosts as preflight and compare disagreed about before they shared the probe: glibc only
    /// from `ldd`, sudo that wants a password, root without sudo, an old glibc, another arch.
    static let hosts: [(String, String)] = [
        ("getconf glibc, root", "arch=x86_64\nkernel=6.1\nhome=/root\nuid=0\nglibc=glibc 2.36\nsudo=missing\n"),
        ("ldd only", "arch=x86_64\nkernel=6.1\nhome=/root\nuid=0\nglibc=ldd (Debian GLIBC 2.36-9+deb12u4) 2.36\nsudo=missing\n"),
        ("user with sudo", "arch=aarch64\nkernel=6.1\nhome=/home/u\nuid=1000\nglibc=glibc 2.39\nsudo=ok\n"),
        ("sudo wants a password", "arch=x86_64\nkernel=6.1\nhome=/home/u\nuid=1000\nglibc=glibc 2.36\nsudo=refused sudo: a password is required\n"),
        ("not in sudoers", "arch=x86_64\nkernel=6.1\nhome=/home/u\nuid=1000\nglibc=glibc 2.36\nsudo=refused u is not in the sudoers file\n"),
        ("old glibc", "arch=x86_64\nkernel=4.9\nhome=/root\nuid=0\nglibc=glibc 2.28\nsudo=missing\n"),
        ("musl", "arch=x86_64\nkernel=6.1\nhome=/root\nuid=0\nglibc=musl libc (x86_64)\nsudo=missing\n"),
        ("32-bit arm", "arch=armv7l\nkernel=6.1\nhome=/root\nuid=0\nglibc=glibc 2.36\nsudo=missing\n"),
    ]

    @Test("a host preflight calls ready is never refused by compare for a host reason, and the reverse",
          arguments: hosts, [false, true])
    func sameVerdicts(host: (String, String), sudo: Bool) async throws {
        let dir = NSTemporaryDirectory() + "cbpre-\(getpid())-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let agent = dir + "/agent"
        try Data("#!/bin/sh\n".utf8).write(to: URL(fileURLWithPath: agent))

        let inventory = fakeInventory(repetitions: 1, sudo: sudo)
        var script = FakeHostScript()
        script.probe = host.1
        let connector = FakeConnector([inventory.pairs[0].server.address: script])
        let rows = await Preflight.check(PreflightTarget.all(inventory, connector: connector)).map(\.row)
        let serverRow = rows[0]

        var options = CompareOptions()
        options.resultsDirectory = dir
        let run = CompareRun(inventory: inventory, catalog: emptyCatalog, connector: connector,
                             agents: AgentBinaries(byArch: ["x86_64": agent, "aarch64": agent]), options: options)
        let summary = try await run.run(state: RunState(), progress: LogProgress(totalCells: 1, quiet: true))
        let refused = summary.hostProblems.filter { $0.0 == serverRow.host }
        if serverRow.ready {
            #expect(refused.isEmpty, "\(host.0): preflight said ready, compare refused: \(refused)")
            #expect(summary.records.count == 1 && summary.records.allSatisfy { $0.status == .ok })
        } else {
            #expect(refused.count == 1, "\(host.0): preflight said \(serverRow.problems), compare ran it")
            for problem in serverRow.problems {
                let own = serverRow.host + ": "
                #expect(refused.first?.1.contains(problem.hasPrefix(own) ? String(problem.dropFirst(own.count)) : problem) == true)
            }
            #expect(summary.pairsNotRun == ["p0"])
        }
    }
}

extension PreflightTests {
    @Test("preflight checks hosts over SSH in parallel and reports each one's state", .enabled(if: getuid() == 0))
    func overSSH() async throws {
        let lab = try SSHLab()
        defer { lab.tearDown() }
        let good = try lab.addHost(environmentPath: try lab.fakeSudo(asksPassword: false))
        let needsPassword = try lab.addHost(environmentPath: try lab.fakeSudo(asksPassword: true))
        let stranger = try lab.addHost()
        try lab.trust(good)
        try lab.trust(needsPassword)
        let silent = try Namespace.create(prefix: "cbssh")
        defer { silent.delete() }
        let (_, far) = try Link.veth(lab.client, silent, subnet: "10.231.\(SSHLab.nextSubnet())")
        let listener = try silent.onThreadInside { try listenForever(on: far.address, port: 22) }
        defer { close(listener) }

        // The lab logs in as root; `uid` is faked to a user's so that sudo is what decides.
        func target(_ host: SSHHost, _ role: String, pair: String = "lab-a", policy: HostKeyPolicy = .strict,
                    sudo: Bool = true) -> PreflightTarget {
            let connector = SSHConnector(policy: policy, socketFactory: lab.socketFactory)
            return PreflightTarget(label: host.label, role: role, pair: pair, user: host.user, sudoAllowed: sudo) {
                try await connector.connect(host, label: host.label)
            }
        }
        let hole = SSHHost(label: "hole", address: far.address, user: "root", identity: lab.userKey,
                           knownHosts: lab.knownHosts, connectTimeout: 3)
        let targets = [target(lab.sshHost(good, label: "good", timeout: 3), "server"),
                       target(lab.sshHost(needsPassword, label: "pw", timeout: 3), "client"),
                       target(lab.sshHost(stranger, label: "stranger", timeout: 3), "server"),
                       target(hole, "client", pair: "lab-b")]
        let start = Date()
        let rows = await Preflight.check(targets).map(\.row)
        let seconds = Date().timeIntervalSince(start)
        // In parallel: the 3 s black hole does not add to the others.
        #expect(seconds < 5, "took \(seconds) s")
        #expect(rows.map(\.host) == ["good", "pw", "stranger", "hole"])

        let localArch = try ProcessRunner.check(["uname", "-m"]).trimmingCharacters(in: .whitespacesAndNewlines)
        let localGlibc = try ProcessRunner.check(["getconf", "GNU_LIBC_VERSION"]).split(separator: " ").last.map(String.init)?
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let ok = rows[0]
        #expect(ok.ready && ok.error == nil, "\(ok.problems)")
        #expect(ok.arch == localArch && ok.glibc == localGlibc && ok.sudo == "ok" && ok.agent == "yes")
        #expect(ok.auth == "key id_ed25519" && ok.hostKey == .known && ok.user == "root" && ok.role == "server")
        #expect(!ok.kernel.isEmpty && ok.kernel != "-")

        // Logged in as root, a sudo that wants a password is not needed: ready, and said so.
        #expect(rows[1].ready && rows[1].sudo == "n/a (root)")
        #expect(!rows[2].ready && rows[2].hostKey == .unknownRefused && rows[2].error?.contains("--accept-new-host-keys") == true)
        #expect(!rows[3].ready && rows[3].error == SSHError.handshakeTimedOut(host: hole.description, seconds: 3).description)

        let table = PreflightTable.render(rows)
        print(table)
        #expect(table.hasPrefix("HOST "))
        #expect(table.contains("\n2 of 4 hosts ready\n"))
        #expect(table.contains("unknown-refused"))

        // With accept-new, the stranger's key is recorded and it becomes ready (root needs no sudo).
        let again = await Preflight.check([target(lab.sshHost(stranger, label: "stranger", timeout: 3), "server", policy: .acceptNew)])
        #expect(again[0].row.hostKey == .newRecorded)
        #expect(again[0].row.ready, "\(again[0].row.problems)")
    }
}
