#if canImport(Glibc)
import Glibc
#endif
import AgentContract
import Synchronization
import Syscall

/// `cloudbench-agent tunnel`: runs the user-space UDP overlay of the `udp` path until its deadline.
///
///     cloudbench-agent tunnel --device cbtun0 --local IP:PORT --peer IP:PORT
///                             --address IP/PREFIX --mtu BYTES --deadline SECONDS [--lease FILE] [--stats FILE]  < path-key
///
/// The path instance's key comes on the first line of standard input (never an argument): the
/// datagrams of both ends are authenticated with keys derived from it (`TunnelAuthenticator`).
/// With `--lease`, it also ends once the lease file goes unrenewed (`Lease`). With `--stats`, it
/// keeps its pid and counts in that file (`TunnelStats`), rewritten at most every 0.1 s while they
/// change and removed when it ends, for the agents that measure across it (`TunnelCounters`).
/// Needs CAP_NET_ADMIN (root). SIGTERM stops it; the TUN device disappears with the process,
/// and the tunnel's counts (packets, datagrams dropped and why) go to standard error.
public enum TunnelCommand {
    public static let usage = """
        usage: cloudbench-agent tunnel --device NAME --local IP:PORT --peer IP:PORT --address IP/PREFIX --mtu BYTES --deadline SECONDS [--lease FILE] [--stats FILE]
        The path key is read from the first line of standard input.
        """

    /// The shortest path key accepted: cloudbench's are 64 hex digits.
    static let minimumKeyLength = 16

    public static func parse(_ arguments: [String], standardInput: () -> String? = Invocation.tokenFromStandardInput)
        throws(AgentError) -> (UDPTunnel.Config, Double) {
        var flags: [String: String] = [:]
        var rest = arguments[...]
        while let flag = rest.popFirst() {
            guard ["--device", "--local", "--peer", "--address", "--mtu", "--deadline"].contains(flag) else {
                throw AgentError.usage("unknown option '\(flag)' for tunnel")
            }
            guard let v = rest.popFirst() else { throw AgentError.usage("\(flag) needs a value") }
            flags[flag] = v
        }
        func need(_ f: String) throws(AgentError) -> String {
            guard let v = flags[f] else { throw AgentError.usage("missing \(f)") }
            return v
        }
        func ipPort(_ f: String) throws(AgentError) -> (String, UInt16) {
            let v = try need(f)
            let parts = v.split(separator: ":")
            guard parts.count == 2, let port = UInt16(parts[1]) else { throw AgentError.usage("\(f) '\(v)' is not IP:PORT") }
            return (String(parts[0]), port)
        }
        let (lip, lport) = try ipPort("--local"), (pip, pport) = try ipPort("--peer")
        let addr = try need("--address").split(separator: "/")
        guard addr.count == 2, let prefix = Int(addr[1]), (1...32).contains(prefix) else {
            throw AgentError.usage("--address must be IP/PREFIX, e.g. 10.254.253.1/30")
        }
        guard let mtu = Int(try need("--mtu")), (576...65_535).contains(mtu) else { throw AgentError.usage("--mtu must be 576 to 65535") }
        guard let deadline = Double(try need("--deadline")), AgentLimits.deadline.contains(deadline) else {
            throw AgentError.usage("--deadline must be from \(AgentLimits.describe(AgentLimits.deadline)) seconds")
        }
        guard let key = standardInput(), key.utf8.count >= minimumKeyLength else {
            throw AgentError.usage("tunnel: no path key (at least \(minimumKeyLength) characters) on the first line of standard input")
        }
        let config = UDPTunnel.Config(device: try need("--device"), localIP: lip, localPort: lport, peerIP: pip, peerPort: pport,
                                      tunnelIP: String(addr[0]), prefixLength: prefix, mtu: mtu, pathKey: key)
        return (config, deadline)
    }

    /// Opens the tunnel and forwards until the deadline or SIGTERM/SIGINT.
    public static func run(_ arguments: [String]) throws(AgentError) {
        let (afterLease, lease) = try fileFlag("--lease", arguments)
        let (rest, stats) = try fileFlag("--stats", afterLease)
        let (config, seconds) = try parse(rest)
        // The stats file exists before the device gets its address (what set-up waits for), so
        // the first test on the path finds it; it goes whenever this ends (not after `_exit`:
        // the path's tear-down and the host's cleanup remove it then).
        if let stats {
            do { try TunnelStats(pid: getpid()).write(to: stats) } catch {
                throw AgentError.failed("cannot write the tunnel's stats file: \(error)")
            }
        }
        defer { if let stats { _ = unlink(stats) } }
        let tunnel: UDPTunnel
        do { tunnel = try UDPTunnel(config) } catch { throw AgentError.failed("cannot open the tunnel: \(error)") }
        TunnelCommand.current = tunnel
        if let lease {
            do { try Lease.hold(lease, log: { printError("cloudbench-agent tunnel: \($0)") }) }
            catch { throw AgentError.failed("\(error)") }
        }
        for sig in [SIGTERM, SIGINT] {
            signal(sig) { _ in TunnelCommand.current?.stop() }
        }
        defer { printError("tunnel \(config.device): \(tunnel.summary)") }
        let publisher = try stats.map { (file) throws(AgentError) in try publish(tunnel, to: file) }
        defer { publisher?() }
        do { try tunnel.run(deadline: Clock.now() + seconds) } catch { throw AgentError.failed("the tunnel stopped: \(error)") }
    }

    /// Keeps `tunnel`'s counts in `file` (`TunnelStats`) from a thread of its own, rewriting it
    /// when they changed, at most every `TunnelStats.period`; returns what stops the thread. A
    /// file that cannot be written is said once in the log; the tunnel goes on.
    static func publish(_ tunnel: UDPTunnel, to file: String) throws(AgentError) -> () -> Void {
        do { try TunnelStats(tunnel).write(to: file) } catch { throw AgentError.failed("cannot write the tunnel's stats file: \(error)") }
        let done = StopFlag()
        let thread: WorkerThread<Void>
        do {
            thread = try WorkerThread {
                var last = TunnelStats(tunnel)
                var failed = false
                while !done.isSet {
                    Clock.sleep(TunnelStats.period)
                    let now = TunnelStats(tunnel)
                    guard now != last else { continue }
                    do { try now.write(to: file); last = now } catch {
                        if !failed { printError("cloudbench-agent tunnel: cannot rewrite \(file): \(error)") }
                        failed = true
                    }
                }
            }
        } catch { throw AgentError.failed("cannot start the tunnel's stats thread: \(error)") }
        return {
            done.set()
            thread.join()
        }
    }

    /// `FLAG FILE` (`--lease`, `--stats`) taken out of `arguments` (the rest goes to `parse`).
    static func fileFlag(_ flag: String, _ arguments: [String]) throws(AgentError) -> ([String], String?) {
        guard let i = arguments.firstIndex(of: flag) else { return (arguments, nil) }
        guard i + 1 < arguments.count, !arguments[i + 1].isEmpty, arguments[i + 1].utf8.count <= 4096 else {
            throw AgentError.usage("\(flag) needs a file name of at most 4096 bytes")
        }
        var rest = arguments
        let file = rest[i + 1]
        rest.removeSubrange(i...(i + 1))
        return (rest, file)
    }

    nonisolated(unsafe) static var current: UDPTunnel?
}

/// A flag one thread sets and another polls.
final class StopFlag: Sendable {
    private let value = Atomic<Bool>(false)
    var isSet: Bool { value.load(ordering: .relaxed) }
    func set() { value.store(true, ordering: .relaxed) }
}
