/// Where cloudbench keeps its files on a host, and the names of what it creates there.
///
/// Everything carries the `cloudbench`/`cb` prefix, so cleanup removes exactly what cloudbench
/// made, also what a killed run left behind.
///
/// Paths are absolute (from the login user's home, read at preflight), so that a command run
/// through `sudo` finds the same files.
public struct RemoteLayout: Sendable {
    public let home: String
    /// Where the probe found a program can run (`HostFacts.agentDirectory`), when not the home's cache.
    public let agentDirectory: String?
    public init(home: String, agentDirectory: String? = nil) {
        self.home = home
        self.agentDirectory = agentDirectory.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The agent binaries (kept between runs, named by content hash so deploys are idempotent):
    /// in the home's cache, or where the probe found a folder that is not on a noexec mount.
    public var directory: String { agentDirectory ?? "\(home)/.cache/cloudbench" }
    /// Pid files and logs of the run in progress; emptied by cleanup.
    public var runDirectory: String { "\(home)/.cache/cloudbench/run" }
    /// The host's lock file (`HostLock.serialized`), beside the run directory: an empty file,
    /// kept like the agent (never removed: removing a lock file another shell holds would let a
    /// third one in on a new file).
    public var lockFile: String { "\(home)/.cache/cloudbench/run.lock" }
    public static let vxlanDevice = "cbvx0"
    public static let tunDevice = "cbtun0"
    /// The VXLAN network identifier and UDP port (Flannel's VXLAN default port).
    public static let vxlanID = 4243
    public static let vxlanPort = 8472
    /// The UDP port of the user-space tunnel (Flannel's UDP backend's default port).
    public static let tunnelPort = 8285
    /// /30 networks inside the built-in overlays: server .1, client .2.
    public static let vxlanNet = "10.254.254"
    public static let tunnelNet = "10.254.253"

    /// The docker path's bridge, its host-side veth and the container network behind them (the
    /// bridge .1, the container .2; the same on every host, as Docker's 172.17.0.0/16 is).
    public static let dockerBridge = "cbdock0"
    public static let dockerVeth = "cbdockv0"
    public static let dockerNet = "10.254.252"
    /// The nftables table of the docker path's NAT rules; nothing else is ever put in it.
    public static let dockerTable = "cloudbench_docker"
    /// The docker path's iptables chains, each jumped to from a built-in chain of its table: the
    /// NAT rules on a host without a usable `nft`, and on every host with iptables the FORWARD
    /// accepts for the container (Docker and ufw set FORWARD's policy to DROP).
    public struct IptablesChain: Sendable {
        public var table: String
        public var hook: String
        public var chain: String
    }
    public static let dockerPrerouting = IptablesChain(table: "nat", hook: "PREROUTING", chain: "CLOUDBENCH_DOCKER_PRE")
    public static let dockerPostrouting = IptablesChain(table: "nat", hook: "POSTROUTING", chain: "CLOUDBENCH_DOCKER_POST")
    public static let dockerForward = IptablesChain(table: "filter", hook: "FORWARD", chain: "CLOUDBENCH_DOCKER_FWD")
    public static let dockerIptablesChains = [dockerPrerouting, dockerPostrouting, dockerForward]
    /// The docker path's container namespace on the host whose test IP is `testIP`: named after
    /// it, since hosts that share a machine's /run/netns (the lab's) must not share the name.
    public static func dockerNamespace(testIP: String) -> String {
        "cbdock-" + String(testIP.map { $0.isHexDigit || $0 == "." ? $0 : "-" })
    }
    /// Files in the run directory: the container namespace's name (for cleanup, which knows no
    /// test IP), and `ip_forward` as it was before the path turned it on (restored after).
    public static func dockerNamespaceFile(in runDirectory: String) -> String { "\(runDirectory)/docker.netns" }
    public static func ipForwardFile(in runDirectory: String) -> String { "\(runDirectory)/ip_forward.saved" }

    /// Removes the docker path's pieces on a host (the namespace named in the run directory, its
    /// agents, the bridge, the NAT table) and puts `ip_forward` back: the path's tear-down, and part
    /// of cleanup. Safe to run twice, and when there is nothing to remove.
    public static func dockerRemoval(runDirectory d: String) -> String {
        let nsFile = dockerNamespaceFile(in: d), saved = ipForwardFile(in: d)
        return "n=$(cat \(nsFile) 2>/dev/null); case \"$n\" in cbdock-*[!A-Za-z0-9.-]*) n= ;; cbdock-?*) "
            + "for p in $(ip netns pids \"$n\" 2>/dev/null | head -n 1000); do "
            + "if grep -q cloudbench-agent /proc/$p/cmdline 2>/dev/null; then kill $p 2>/dev/null; fi; done; "
            + "ip netns del \"$n\" 2>/dev/null ;; esac; rm -f \(nsFile); "
            + "ip link del \(dockerBridge) 2>/dev/null; ip link del \(dockerVeth) 2>/dev/null; "
            + "if command -v nft > /dev/null 2>&1; then nft delete table ip \(dockerTable) 2>/dev/null; fi; "
            + "if command -v iptables > /dev/null 2>&1; then "
            + dockerIptablesChains.map { c in
                "for i in 1 2 3 4 5 6 7 8; do iptables -t \(c.table) -D \(c.hook) -j \(c.chain) 2>/dev/null || break; done; "
                    + "iptables -t \(c.table) -F \(c.chain) 2>/dev/null; iptables -t \(c.table) -X \(c.chain) 2>/dev/null; "
            }.joined() + "fi; "
            + "f=$(cat \(saved) 2>/dev/null); case \"$f\" in 0|1) echo $f > /proc/sys/net/ipv4/ip_forward ;; esac; rm -f \(saved); true"
    }

    /// The host's lease for the run in progress (`HostLease`): renewed by the orchestrator,
    /// held by every agent process and by the watchdog that cleans up when it runs out.
    public var leaseFile: String { Self.leaseFile(in: runDirectory) }
    public static func leaseFile(in runDirectory: String) -> String { "\(runDirectory)/lease" }

    public func agentPath(sha256: String) -> String { "\(directory)/cloudbench-agent-\(sha256.prefix(16))" }

    /// Kills every process cloudbench started on the host (by its pid files, and only if the pid
    /// still runs cloudbench-agent; never the shell running this, which is the lease watchdog when
    /// a lease ran out), removes its interfaces, pid files, logs and lease. Safe to run twice.
    public var cleanupScript: String { """
        d="\(runDirectory)"; \
        for f in "$d"/*.pid; do [ -f "$f" ] || continue; p=$(cat "$f"); \
        if [ -n "$p" ] && [ "$p" != "$$" ] && grep -q cloudbench-agent "/proc/$p/cmdline" 2>/dev/null; then kill "$p" 2>/dev/null; fi; \
        rm -f "$f"; done; \
        for dev in \(Self.vxlanDevice) \(Self.tunDevice); do if [ -e "/sys/class/net/$dev" ]; then ip link del "$dev" 2>/dev/null; fi; done; \
        \(Self.dockerRemoval(runDirectory: runDirectory)); \
        rm -f "$d"/*.log "$d"/lease "$d"/lease.period "$d"/lease.seen "$d"/*.stats "$d"/*.stats.new; rmdir "$d" 2>/dev/null; true
        """
    }

    /// What cleanup would find: pid files of live agents and cloudbench's interfaces (empty when clean).
    public var leftoversScript: String { """
        d="\(runDirectory)"; \
        for f in "$d"/*.pid; do [ -f "$f" ] || continue; p=$(cat "$f"); \
        if [ -n "$p" ] && grep -q cloudbench-agent "/proc/$p/cmdline" 2>/dev/null; then echo "process $p ($f)"; fi; done; \
        for dev in \(Self.vxlanDevice) \(Self.tunDevice) \(Self.dockerBridge) \(Self.dockerVeth); do if [ -e "/sys/class/net/$dev" ]; then echo "interface $dev"; fi; done; \
        if nft list table ip \(Self.dockerTable) > /dev/null 2>&1; then echo "nftables table \(Self.dockerTable)"; fi; \
        for c in \(Self.dockerIptablesChains.map { "\($0.table):\($0.chain)" }.joined(separator: " ")); do \
        if iptables -t "${c%%:*}" -S "${c#*:}" > /dev/null 2>&1; then echo "iptables chain ${c#*:}"; fi; done; \
        ls "$d" 2>/dev/null | sed 's/^/file /'; true
        """
    }
}
