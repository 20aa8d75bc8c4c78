import CloudbenchSSH
import CloudbenchProcess
import Foundation
import NetNS
#if canImport(Glibc)
import Glibc
#endif

/// Hosts for SSH tests (CloudbenchSSHTests, and compare's preflight in CloudbenchOrchestratorTests): network namespaces running real OpenSSH `sshd`, reached from a client
/// namespace that has no default route. Everything it makes is removed by `tearDown()`.
public final class SSHLab: @unchecked Sendable {
    /// One namespace with its own sshd and host key.
    public struct Host: @unchecked Sendable {
        public let namespace: Namespace
        /// The address the client (or the jump host) reaches it at.
        public let address: String
        public let hostKeyPublic: String
        public let ecdsaKeyPublic: String
        public let sshd: ChildProcess
        /// The host's end of its link, to take the link down in tests.
        public let endpoint: Endpoint
        /// The other end (the client's or the jump host's), to shape what is sent to the host.
        public let peerEndpoint: Endpoint
    }

    public let dir: String
    public let client: Namespace
    public private(set) var namespaces: [Namespace] = []
    public private(set) var processes: [ChildProcess] = []
    public private(set) var hosts: [Host] = []
    public let userKey: String
    public let knownHosts: String

    /// The socket factory a session uses to connect from inside the client namespace.
    public var socketFactory: SocketFactory {
        let client = self.client
        return { host, port, timeout in try client.connectTCP(host: host, port: port, timeout: timeout) }
    }

    public init() throws {
        dir = NSTemporaryDirectory() + "cbssh-\(getpid())-\(SSHLab.nextID())"
        try FileManager.default.createDirectory(atPath: dir + "/bin", withIntermediateDirectories: true)
        client = try Namespace.create(prefix: "cbssh")
        namespaces.append(client)
        userKey = dir + "/id_ed25519"
        knownHosts = dir + "/known_hosts"
        do {
            try ProcessRunner.check(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "cloudbench-test", "-f", userKey])
            try authorize(publicKey: userKey + ".pub")
            // sshd refuses to start without its privilege-separation directory.
            try FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true)
        } catch {
            tearDown()
            throw error
        }
    }

    /// Adds a public key file to the authorized_keys every lab sshd uses.
    public func authorize(publicKey: String) throws {
        let line = try String(contentsOfFile: publicKey, encoding: .utf8)
        let path = dir + "/authorized_keys"
        let old = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        try (old + line).write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// A new namespace joined to `from` by a veth on a fresh /24, running sshd on ports 22 and 2222;
    /// with `sftp: false` its sshd has no SFTP subsystem (as hardened images and minimal containers);
    /// with `home`, sessions get that `HOME` (a folder of the test's, e.g. on a noexec mount).
    @discardableResult
    public func addHost(linkedTo from: Namespace? = nil, environmentPath: String? = nil, sftp: Bool = true,
                        home: String? = nil) throws -> Host {
        let ns = try Namespace.create(prefix: "cbssh")
        namespaces.append(ns)
        let (near, far) = try Link.veth(from ?? client, ns, subnet: "10.231.\(SSHLab.nextSubnet())")
        let name = "host\(hosts.count)"
        let hostKey = "\(dir)/\(name)_ed25519"
        try ProcessRunner.check(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", hostKey])
        let ecdsaKey = "\(dir)/\(name)_ecdsa"
        try ProcessRunner.check(["ssh-keygen", "-q", "-t", "ecdsa", "-b", "256", "-N", "", "-f", ecdsaKey])
        var config = """
        Port 22
        Port 2222
        ListenAddress 0.0.0.0
        HostKey \(hostKey)
        HostKey \(ecdsaKey)
        AuthorizedKeysFile \(dir)/authorized_keys
        PermitRootLogin prohibit-password
        StrictModes no
        UsePAM no
        PasswordAuthentication no
        KbdInteractiveAuthentication no
        PidFile \(dir)/\(name).pid
        LogLevel VERBOSE

        """
        if sftp { config += "Subsystem sftp /usr/lib/openssh/sftp-server\n" }
        // One SetEnv line: sshd keeps only the first.
        let environment = [environmentPath.map { "PATH=\($0)" }, home.map { "HOME=\($0)" }].compactMap { $0 }
        if !environment.isEmpty { config += "SetEnv \(environment.joined(separator: " "))\n" }
        let configPath = "\(dir)/\(name)_sshd_config"
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
        let sshd = try spawnDaemon(in: ns, ["/usr/sbin/sshd", "-D", "-e", "-f", configPath], log: "\(dir)/\(name).log")
        let host = Host(namespace: ns, address: far.address,
                        hostKeyPublic: try String(contentsOfFile: hostKey + ".pub", encoding: .utf8),
                        ecdsaKeyPublic: try String(contentsOfFile: ecdsaKey + ".pub", encoding: .utf8), sshd: sshd,
                        endpoint: far, peerEndpoint: near)
        hosts.append(host)
        try waitUntilListening(ns: ns, address: far.address)
        return host
    }

    /// Polls from inside the host's own namespace until sshd accepts connections.
    private func waitUntilListening(ns: Namespace, address: String) throws {
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if let fd = try? ns.connectTCP(host: address, port: 22, timeout: 0.5) {
                close(fd)
                return
            }
            usleep(50_000)
        }
        throw TestFailure("sshd in \(ns.name) did not start listening within 10 s; see \(dir)")
    }

    /// OpenSSH's own fingerprint of the host's key (`ssh-keygen -lf`), to compare messages against.
    public func fingerprint(_ host: Host) throws -> String {
        let path = dir + "/fp-\(SSHLab.nextID()).pub"
        try host.hostKeyPublic.write(toFile: path, atomically: true, encoding: .utf8)
        return String(try ProcessRunner.check(["ssh-keygen", "-l", "-f", path]).split(separator: " ")[1])
    }

    /// Records `host`'s key under `name` (default: its address) in the lab's known_hosts.
    public func trust(_ host: Host, as name: String? = nil, ecdsa: Bool = false) throws {
        let fields = (ecdsa ? host.ecdsaKeyPublic : host.hostKeyPublic).split(separator: " ")
        let line = "\(name ?? host.address) \(fields[0]) \(fields[1])\n"
        let old = (try? String(contentsOfFile: knownHosts, encoding: .utf8)) ?? ""
        try (old + line).write(toFile: knownHosts, atomically: true, encoding: .utf8)
    }

    /// An `SSHHost` for `host` as root with the lab's key and known_hosts.
    public func sshHost(_ host: Host, label: String = "web-1", port: UInt16 = 22, identity: String? = nil,
                 useAgent: String? = nil, timeout: Double = 5) -> SSHHost {
        SSHHost(label: label, address: host.address, port: port, user: "root",
                identity: useAgent == nil ? (identity ?? userKey) : nil, agentSocket: useAgent,
                knownHosts: knownHosts, connectTimeout: timeout)
    }

    /// Starts a long-running program in `ns`, owned by the lab (killed on teardown).
    ///
    /// The daemon runs under a `sh` parent (which does not exec it, thanks to `; exit`): that
    /// was needed while Foundation's Process took a daemon closing its inherited descriptors for
    /// its exit; with `ProcessRunner.start` (posix_spawn, waitpid) it only keeps one pid to kill.
    public func spawnDaemon(in ns: Namespace, _ argv: [String], log: String,
                     environment: [String: String]? = nil) throws -> ChildProcess {
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let handle = FileHandle(forWritingAtPath: log)
        let line = argv.map(shellQuote).joined(separator: " ") + "; exit $?"
        let process = try ns.spawn(["/bin/sh", "-c", line], stdout: handle, stderr: handle, environment: environment)
        processes.append(process)
        return process
    }

    /// A fake `sudo` for the remote PATH (sshd `SetEnv PATH=…`): one that asks for a password
    /// exactly as sudo 1.9 does with `-n`, or one that runs the command as passwordless sudo would.
    /// Returns the PATH to give `addHost(environmentPath:)`.
    public func fakeSudo(asksPassword: Bool) throws -> String {
        let bin = dir + (asksPassword ? "/sudo-password" : "/sudo-ok")
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        let script = asksPassword
            ? "#!/bin/sh\necho 'sudo: a password is required' >&2\nexit 1\n"
            : "#!/bin/sh\n[ \"$1\" = -n ] && shift\n[ \"$1\" = -- ] && shift\nexec \"$@\"\n"
        try script.write(toFile: bin + "/sudo", atomically: true, encoding: .utf8)
        chmod(bin + "/sudo", 0o755)
        return bin + ":/usr/sbin:/usr/bin:/sbin:/bin"
    }

    /// Kills sshd and every process it forked (per-connection children) with SIGKILL.
    public func killSSHD(_ host: Host) {
        let pids = [host.sshd.processIdentifier] + descendants(of: host.sshd.processIdentifier)
        for pid in pids.reversed() { kill(pid, SIGKILL) }
    }

    /// Stops every process the lab started (sshd children included), removes its namespaces and files.
    public func tearDown() {
        for process in processes {
            let pid = process.processIdentifier
            for child in descendants(of: pid).reversed() { kill(child, SIGKILL) }
            if process.isRunning { kill(pid, SIGKILL) }
            process.waitUntilExit()
        }
        processes.removeAll()
        for ns in namespaces.reversed() { ns.delete() }
        namespaces.removeAll()
        try? FileManager.default.removeItem(atPath: dir)
    }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var counter = 0
    nonisolated(unsafe) private static var subnet = 49
    public static func nextID() -> Int { lock.lock(); defer { lock.unlock() }; counter += 1; return counter }
    /// Third octets 50…89, the range this suite owns.
    public static func nextSubnet() -> Int {
        lock.lock(); defer { lock.unlock() }
        subnet = subnet >= 89 ? 50 : subnet + 1
        return subnet
    }
}

public struct TestFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}

/// Child processes of `pid`, recursively, found through /proc.
public func descendants(of pid: Int32) -> [Int32] {
    var parents: [Int32: [Int32]] = [:]
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    for entry in entries {
        guard let p = Int32(entry), let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { continue }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        if fields.count > 1, let ppid = Int32(fields[1]) { parents[ppid, default: []].append(p) }
    }
    var out: [Int32] = []
    var queue = [pid]
    while let next = queue.popLast() {
        for child in parents[next] ?? [] { out.append(child); queue.append(child) }
    }
    return out
}

/// Runs `body` with a fresh lab and always tears it down.
public func withLab<T>(_ body: (SSHLab) throws -> T) throws -> T {
    let lab = try SSHLab()
    defer { lab.tearDown() }
    return try body(lab)
}

/// Seconds `body` took.
public func timed<T>(_ body: () throws -> T) rethrows -> (T, Double) {
    let start = Date()
    let value = try body()
    return (value, Date().timeIntervalSince(start))
}

/// A socket listening in the current (namespace) thread that never accepts: the kernel
/// completes TCP handshakes, then nothing is ever said.
public func listenForever(on address: String, port: UInt16) throws -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { throw TestFailure("socket: \(errno)") }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = port.bigEndian
    inet_pton(AF_INET, address, &addr.sin_addr)
    let bound = withUnsafePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0, listen(fd, 16) == 0 else { close(fd); throw TestFailure("bind/listen on \(address): \(errno)") }
    return fd
}
