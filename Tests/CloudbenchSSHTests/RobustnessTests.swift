@testable import CloudbenchSSH
import Foundation
import NetNS
import Testing
#if canImport(Glibc)
import Glibc
#endif

extension SSHIntegrationTests {
    @Test("a command past its deadline fails at the deadline, and the session stays usable")
    func commandDeadline() throws {
        try withLab { lab in
            let h = try lab.addHost()
            try lab.trust(h)
            let session = try SSHSession(host: lab.sshHost(h), socketFactory: lab.socketFactory)
            let (error, seconds) = timed { #expect(throws: SSHError.self) { try session.exec("sleep 30", deadline: 2) } }
            #expect(error == .commandTimedOut(host: "web-1 (\(h.address):22)", command: "sleep 30", seconds: 2))
            #expect(seconds >= 1.9 && seconds < 3.0, "took \(seconds) s")
            #expect(try session.exec("echo still here", deadline: 5).stdout == "still here\n")
        }
    }

    @Test("sshd killed mid-command fails at once with 'connection lost', long before the deadline")
    func sshdKilled() throws {
        try withLab { lab in
            let h = try lab.addHost()
            try lab.trust(h)
            let session = try SSHSession(host: lab.sshHost(h), socketFactory: lab.socketFactory)
            let killer = Thread { usleep(1_000_000); lab.killSSHD(h) }
            killer.start()
            let (error, seconds) = timed { #expect(throws: SSHError.self) { try session.exec("sleep 30; echo done", deadline: 20) } }
            if case .connectionLost = error {} else { Issue.record("expected connectionLost, got \(String(describing: error))") }
            #expect(seconds < 4, "took \(seconds) s")
        }
    }

    @Test("a quiet command on a healthy host outlives many keepalive intervals")
    func keepalivesAnswered() throws {
        try withLab { lab in
            let h = try lab.addHost()
            try lab.trust(h)
            var config = lab.sshHost(h)
            config.keepaliveInterval = 1
            let session = try SSHSession(host: config, socketFactory: lab.socketFactory)
            // Six silent seconds: without working keepalives the 4 s silence limit would trip.
            #expect(try session.exec("sleep 6; echo done", deadline: 20).stdout == "done\n")
        }
    }

    @Test("a keepalive of 600 h (the inventory's old unbounded value) is clamped: a quiet command just runs")
    func hugeKeepalive() throws {
        try withLab { lab in
            let h = try lab.addHost()
            try lab.trust(h)
            var config = lab.sshHost(h)
            config.keepaliveInterval = 600 * 3600
            let session = try SSHSession(host: config, socketFactory: lab.socketFactory)
            // The wait for output used to compute the keepalive's milliseconds in an Int32 and trap.
            #expect(try session.exec("sleep 1; echo done", deadline: 10).stdout == "done\n")
            #expect(config.effectiveKeepalive == SSHHost.maximumKeepalive)
        }
    }

    @Test("a host's output is capped (the tail kept, the cut said) and its escape sequences never reach us")
    func hostileOutput() throws {
        try withLab { lab in
            let h = try lab.addHost()
            try lab.trust(h)
            let session = try SSHSession(host: lab.sshHost(h), socketFactory: lab.socketFactory)
            // 6,000,000 a, then a title change and a screen clear, then "tail": 6,000,019 bytes.
            let r = try session.exec(#"head -c 6000000 /dev/zero | tr '\0' a; printf '\033]0;owned\007\033[2Jtail\n'; printf '\033[31mEND\n' >&2"#,
                                     deadline: 30)
            #expect(r.stdout.hasPrefix("[cloudbench: the first 1805715 bytes of this output were cut; the last 4194304 follow]\naaa"))
            #expect(r.stdout.hasSuffix("aaatail\n"))
            #expect(r.stdout.utf8.count == 4_194_304 - 14 + 87, "\(r.stdout.utf8.count) bytes kept")
            #expect(r.stderr == "END\n")
            #expect(!r.stdout.unicodeScalars.contains("\u{1B}"))
        }
    }

    @Test("a host that goes silent mid-command (link down) fails after three unanswered keepalives")
    func hostGoesSilent() throws {
        try withLab { lab in
            let h = try lab.addHost()
            try lab.trust(h)
            var config = lab.sshHost(h)
            config.keepaliveInterval = 1
            let session = try SSHSession(host: config, socketFactory: lab.socketFactory)
            let cutter = Thread { usleep(500_000); _ = try? h.namespace.run(["ip", "link", "set", h.endpoint.device, "down"]) }
            cutter.start()
            let (error, seconds) = timed { #expect(throws: SSHError.self) { try session.exec("sleep 60", deadline: 30) } }
            #expect(error == .connectionLost(host: config.description, during: "`sleep 60`", detail: "no answer to keepalives for 4 s"))
            // 0.5 s until the cut, then 3 keepalive intervals of 1 s plus one second of grace.
            #expect(seconds > 4 && seconds < 6.5, "took \(seconds) s")
        }
    }

    @Test("a black-hole host that accepts TCP but never speaks fails within the handshake timeout")
    func blackHole() throws {
        try withLab { lab in
            let silent = try Namespace.create(prefix: "cbssh")
            defer { silent.delete() }
            let (_, far) = try Link.veth(lab.client, silent, subnet: "10.231.\(SSHLab.nextSubnet())")
            let listener = try silent.onThreadInside { try listenForever(on: far.address, port: 22) }
            defer { close(listener) }
            let host = SSHHost(label: "hole", address: far.address, user: "root", identity: lab.userKey,
                               knownHosts: lab.knownHosts, connectTimeout: 2)
            let (error, seconds) = timed { #expect(throws: SSHError.self) { try SSHSession(host: host, socketFactory: lab.socketFactory) } }
            #expect(error == .handshakeTimedOut(host: "hole (\(far.address):22)", seconds: 2))
            #expect(seconds >= 1.9 && seconds < 3.5, "took \(seconds) s")
        }
    }

    @Test("an address with no route fails at once with a sentence, not a hang")
    func unreachable() throws {
        try withLab { lab in
            let host = SSHHost(label: "gone", address: "192.0.2.1", user: "root", identity: lab.userKey,
                               knownHosts: lab.knownHosts, connectTimeout: 2)
            let (error, seconds) = timed { #expect(throws: SSHError.self) { try SSHSession(host: host, socketFactory: lab.socketFactory) } }
            #expect(error?.description.hasPrefix("gone (192.0.2.1:22): cannot connect") == true)
            #expect(seconds < 2.5)
        }
    }

    @Test("a jump host reaches a target on a subnet the client cannot route to")
    func jumpHost() throws {
        try withLab { lab in
            let jump = try lab.addHost()
            let target = try lab.addHost(linkedTo: jump.namespace)
            try lab.trust(jump)
            try lab.trust(target)
            // The client really cannot reach the target by itself.
            #expect(throws: (any Error).self) { _ = try lab.client.connectTCP(host: target.address, port: 22, timeout: 1) }
            var host = lab.sshHost(target, label: "private-1")
            host.jump = lab.sshHost(jump, label: "bastion")
            let session = try SSHSession(host: host, socketFactory: lab.socketFactory)
            #expect(session.hostKeyStatus == .known)
            let addresses = try session.exec("ip -o -4 addr show", deadline: 10).stdout
            #expect(addresses.contains(target.address + "/24"))
            // A few megabytes through the tunnel arrive intact.
            let big = try session.exec("head -c 4000000 /dev/zero | tr '\\0' y", deadline: 20)
            #expect(big.stdout.utf8.count == 4_000_000 && big.stdout.allSatisfy { $0 == "y" })

            // A target the jump host cannot reach: the error names both.
            var bad = host
            bad.address = "10.231.\(SSHLab.nextSubnet()).9"
            let error = #expect(throws: SSHError.self) { try SSHSession(host: bad, socketFactory: lab.socketFactory) }
            if case .jumpFailed = error {} else { Issue.record("expected jumpFailed, got \(String(describing: error))") }
        }
    }

    @Test("no namespace or process is left behind after a lab with live sessions")
    func nothingLeftBehind() throws {
        let lab = try SSHLab()
        var pids: [Int32] = []
        var names: [String] = []
        do {
            let h = try lab.addHost()
            try lab.trust(h)
            let session = try SSHSession(host: lab.sshHost(h), socketFactory: lab.socketFactory)
            _ = try session.exec("true", deadline: 5)
            pids = [h.sshd.processIdentifier] + descendants(of: h.sshd.processIdentifier)
            names = lab.namespaces.map(\.name)
            lab.tearDown()
        } catch {
            lab.tearDown()
            throw error
        }
        #expect(pids.count >= 2)
        // SIGKILL lands asynchronously; give the kernel a moment, zombies count as gone.
        let settle = Date().addingTimeInterval(2)
        while pids.contains(where: isRunning), Date() < settle { usleep(20_000) }
        #expect(!pids.contains(where: isRunning), "still running: \(pids.filter(isRunning))")
        let existing = Set(Namespace.existing(prefix: "cbssh-\(getpid())-").map(\.name))
        #expect(existing.isDisjoint(with: names))
        #expect(!FileManager.default.fileExists(atPath: lab.dir))
    }
}

/// Whether `pid` exists and is not a zombie.
func isRunning(_ pid: Int32) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = stat.lastIndex(of: ")") else { return false }
    return stat[stat.index(after: close)...].split(separator: " ").first != "Z"
}

/// A socket listening in the current (namespace) thread that never accepts: the kernel
/// completes TCP handshakes, then nothing is ever said.
func listenForever(on address: String, port: UInt16) throws -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { throw LabError("socket: \(errno)") }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = port.bigEndian
    inet_pton(AF_INET, address, &addr.sin_addr)
    let bound = withUnsafePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0, listen(fd, 16) == 0 else { close(fd); throw LabError("bind/listen on \(address): \(errno)") }
    return fd
}
