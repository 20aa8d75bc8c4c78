import AgentKit
import CloudbenchCore
import CloudbenchSSH

/// One shell command of a path's set-up or tear-down, and on which end it runs.
public struct PathStep: Sendable, Equatable {
    public var role: Instance.Role
    public var command: String
    public var privileged: Bool
    /// What the step does, for error messages ("create the VXLAN tunnel").
    public var what: String
    /// What the step reads on standard input (a key it must not show in a command line).
    public var input: String? = nil
}

/// How a cell's traffic is routed: what to set up on both hosts, the addresses the agent
/// listens on and connects to, and which interface the route must leave through.
///
/// A value computed from the pair and the path, so it can be checked without any host.
public struct PathSetup: Sendable, Equatable {
    public var path: PathKind
    public var setup: [PathStep]
    public var teardown: [PathStep]
    /// The address the agent server listens on and the client connects to.
    public var serverAddress: String
    /// The client's own address on this path (the route check's other end).
    public var clientAddress: String
    /// The interface the client's route to `serverAddress` must leave through, when known.
    public var expectedDevice: String?
    /// The overlay's addresses live in namespaces of the hosts (pods, containers): the host's
    /// route to them may take the underlay's interface (native routing) and still be the overlay.
    public var namespaced = false
    /// The udp path: where the client host's tunnel keeps its counts (`TunnelStats`), for the
    /// client's `--tunnel-stats`; the server host's agent server reads its own tunnel's there too.
    public var clientTunnelStats: String? = nil
    /// The network namespaces the path's set-up creates for the agents (the docker path's
    /// containers, `/var/run/netns/…`): the server host's agent server for this path starts in
    /// the first after the set-up, and the client runs in the second. Nil: the host's own.
    public var serverNetns: String? = nil
    public var clientNetns: String? = nil
    /// What carries the path's packets, when the path itself decides it (the docker path's NAT
    /// is not visible from the route: the record says what cloudbench built).
    public var datapath: Datapath? = nil

    /// The user-space tunnel's stats file in a host's run directory.
    public static func tunnelStats(in runDirectory: String) -> String { "\(runDirectory)/tunnel.stats" }

    /// Where the agent is on one host (the udp path runs its tunnel) and where pid files and logs go.
    public struct Side: Sendable, Equatable {
        public var agent: String
        public var runDirectory: String
        public init(agent: String, runDirectory: String) { self.agent = agent; self.runDirectory = runDirectory }
    }

    /// The VXLAN devices' MAC addresses (locally administered), known in advance so that each
    /// end gets a static forwarding entry and a permanent neighbour entry for the other.
    static let vxlanMAC: [Instance.Role: String] = [.server: "02:cb:00:00:00:01", .client: "02:cb:00:00:00:02"]

    /// - Parameter deadline: seconds after which a tunnel stops by itself, even if cloudbench dies;
    ///   before that, it holds the host's lease (`HostLease`) and stops when that runs out. The
    ///   VXLAN device is removed by the host's lease watchdog then.
    /// - Parameter pathKey: the path instance's key; the udp path's tunnel authenticates its
    ///   datagrams with keys derived from it, read from standard input.
    /// - Parameter agentPort: the port the docker path publishes on the server's test IP.
    public static func make(path: PathKind, pair: Pair, server: Side, client: Side, deadline: Int, pathKey: String,
                            agentPort: Int = RunSettings().agentPort) -> PathSetup {
        let s = pair.server.testIP, c = pair.client.testIP
        func side(_ role: Instance.Role) -> Side { role == .server ? server : client }
        switch path {
        case .host:
            return PathSetup(path: path, setup: [], teardown: [], serverAddress: s, clientAddress: c, expectedDevice: nil)

        case .vxlan:
            let dev = RemoteLayout.vxlanDevice, net = RemoteLayout.vxlanNet
            func create(_ role: Instance.Role, local: String, remote: String, ip: String, peerIP: String) -> PathStep {
                let mac = vxlanMAC[role]!, peerMAC = vxlanMAC[role == .server ? .client : .server]!
                // The underlay device and its MTU come from the route to the peer; VXLAN costs 50 bytes.
                // No learning: a frame reaching UDP 8472 from anywhere cannot add a forwarding
                // entry; the peer's MAC has a static one, and its address a permanent neighbour.
                let cmd = "u=$(ip -o route get \(remote) | sed -n 's/.* dev \\([^ ]*\\).*/\\1/p'); "
                    + "m=$(cat /sys/class/net/$u/mtu); "
                    + "ip link del \(dev) 2>/dev/null; "
                    + "ip link add \(dev) address \(mac) type vxlan id \(RemoteLayout.vxlanID) local \(local) remote \(remote) "
                    + "dstport \(RemoteLayout.vxlanPort) dev $u nolearning && ip link set \(dev) mtu $((m - 50)) up && "
                    + "ip addr add \(ip)/30 dev \(dev) && "
                    + "bridge fdb replace \(peerMAC) dev \(dev) dst \(remote) permanent && "
                    + "ip neigh replace \(peerIP) lladdr \(peerMAC) dev \(dev) nud permanent"
                return PathStep(role: role, command: cmd, privileged: true, what: "create the VXLAN tunnel \(dev)")
            }
            let remove = "ip link del \(dev) 2>/dev/null; true"
            return PathSetup(
                path: path,
                setup: [create(.server, local: s, remote: c, ip: "\(net).1", peerIP: "\(net).2"),
                        create(.client, local: c, remote: s, ip: "\(net).2", peerIP: "\(net).1")],
                teardown: [PathStep(role: .server, command: remove, privileged: true, what: "remove \(dev)"),
                           PathStep(role: .client, command: remove, privileged: true, what: "remove \(dev)")],
                serverAddress: "\(net).1", clientAddress: "\(net).2", expectedDevice: dev)

        case .udp:
            let dev = RemoteLayout.tunDevice, net = RemoteLayout.tunnelNet, port = RemoteLayout.tunnelPort
            func start(_ role: Instance.Role, local: String, remote: String, ip: String) -> PathStep {
                let runDirectory = side(role).runDirectory, agent = side(role).agent
                let pidFile = "\(runDirectory)/tunnel.pid"
                // IPv4 and UDP headers and the datagram's authenticator cost `UDPTunnel.overhead`
                // bytes of the underlay's MTU. The path key goes on the tunnel's standard input
                // (a background job's is /dev/null unless handed on explicitly, as fd 3).
                let cmd = "mkdir -p \(runDirectory) || exit 1; "
                    + "u=$(ip -o route get \(remote) | sed -n 's/.* dev \\([^ ]*\\).*/\\1/p'); "
                    + "m=$(cat /sys/class/net/$u/mtu); "
                    + "exec 3<&0; nohup \(agent) tunnel --device \(dev) --local \(local):\(port) --peer \(remote):\(port) "
                    + "--address \(ip)/30 --mtu $((m - \(UDPTunnel.overhead))) --deadline \(deadline) "
                    + "--lease \(RemoteLayout.leaseFile(in: runDirectory)) --stats \(tunnelStats(in: runDirectory)) "
                    + "> \(runDirectory)/tunnel.log 2>&1 <&3 3<&- & exec 3<&-; echo $! > \(pidFile); "
                    // Ready once it has its address and is up: the tunnel sets the address first, and
                    // its route exists only once the device is up (a route check in between saw none).
                    + "for i in $(seq 1 50); do ip -o addr show dev \(dev) 2>/dev/null | grep -q ' \(ip)/' "
                    + "&& ip -o link show dev \(dev) 2>/dev/null | grep -q '[<,]UP[,>]' && exit 0; "
                    + "\(shellProcessRuns("$(cat \(pidFile))")) || break; sleep 0.1; done; "
                    + "cat \(runDirectory)/tunnel.log >&2; exit 1"
                return PathStep(role: role, command: cmd, privileged: true, what: "start the user-space UDP tunnel \(dev)",
                                input: pathKey + "\n")
            }
            func stop(_ role: Instance.Role) -> PathStep {
                let runDirectory = side(role).runDirectory
                let cmd = shellStopAgent(pidFile: "\(runDirectory)/tunnel.pid") + "; "
                    + "rm -f \(runDirectory)/tunnel.pid \(runDirectory)/tunnel.log \(tunnelStats(in: runDirectory)) \(tunnelStats(in: runDirectory)).new; "
                    + "for i in $(seq 1 30); do [ -e /sys/class/net/\(dev) ] || exit 0; sleep 0.1; done; ip link del \(dev) 2>/dev/null; true"
                return PathStep(role: role, command: cmd, privileged: true, what: "stop the UDP tunnel")
            }
            var setup = PathSetup(
                path: path,
                setup: [start(.server, local: s, remote: c, ip: "\(net).1"), start(.client, local: c, remote: s, ip: "\(net).2")],
                teardown: [stop(.server), stop(.client)],
                serverAddress: "\(net).1", clientAddress: "\(net).2", expectedDevice: dev)
            setup.clientTunnelStats = tunnelStats(in: client.runDirectory)
            return setup

        case .docker:
            return docker(pair: pair, server: server, client: client, agentPort: agentPort)

        case .external(let name):
            var setup = PathSetup(path: path, setup: [], teardown: [],
                                  serverAddress: pair.server.overlays[name] ?? s, clientAddress: pair.client.overlays[name] ?? c,
                                  expectedDevice: nil)
            setup.namespaced = pair.server.overlayNamespaces[name] != nil || pair.client.overlayNamespaces[name] != nil
            return setup
        }
    }

    /// The docker path: on each host, what `docker run -p PORT:PORT` builds for a container — a
    /// network namespace behind the bridge `cbdock0` and a veth, a default route via the bridge,
    /// `ip_forward` on (its old value kept in the run directory, put back by the tear-down),
    /// MASQUERADE for what the container sends out, and on the server host DNAT of the agent's
    /// port (TCP and UDP) on the test IP to the container. The agents run in the containers; the
    /// client connects to the server's test IP, as a client of a published port does.
    ///
    /// NAT rules go in an nftables table of cloudbench's own (`cloudbench_docker`), or on a host
    /// without a usable `nft` in iptables chains of its own (`CLOUDBENCH_DOCKER_PRE`/`_POST`); a
    /// host with neither fails the cell with that reason. Where iptables works, FORWARD first jumps
    /// to `CLOUDBENCH_DOCKER_FWD`, which accepts the container's traffic as Docker's rules do.
    /// The namespace's processes, the namespace, the bridge, the table, the chains and
    /// `ip_forward` are the tear-down's, and the lease watchdog's (`RemoteLayout.dockerRemoval`)
    /// when cloudbench is gone.
    static func docker(pair: Pair, server: Side, client: Side, agentPort: Int) -> PathSetup {
        let net = RemoteLayout.dockerNet, bridge = RemoteLayout.dockerBridge, veth = RemoteLayout.dockerVeth
        let table = RemoteLayout.dockerTable
        func create(_ role: Instance.Role, side: Side, ip: String, peer: String) -> PathStep {
            guard !ip.contains(":") && !peer.contains(":") else {
                return PathStep(role: role, command: "echo 'the docker path is built for IPv4 test IPs; \(ip) is not one' >&2; exit 1",
                                privileged: true, what: "build the docker-style container network")
            }
            let d = side.runDirectory, ns = RemoteLayout.dockerNamespace(testIP: ip)
            var rules = ["table ip \(table) {}", "delete table ip \(table)", "table ip \(table) {",
                         "chain postrouting { type nat hook postrouting priority srcnat; policy accept; "
                            + "ip saddr \(net).0/24 oifname != \\\"\(bridge)\\\" masquerade; }"]
            if role == .server {
                rules.append("chain prerouting { type nat hook prerouting priority dstnat; policy accept; "
                             + "ip daddr \(ip) tcp dport \(agentPort) dnat to \(net).2; ip daddr \(ip) udp dport \(agentPort) dnat to \(net).2; }")
            }
            rules.append("}")
            // The same rules for a host whose firewall is iptables (no `nft`, or one that cannot
            // list tables), in chains of cloudbench's own.
            let (pre, post, fwd) = (RemoteLayout.dockerPrerouting, RemoteLayout.dockerPostrouting, RemoteLayout.dockerForward)
            var iptables = ["iptables -t nat -N \(post.chain)", "iptables -t nat -A \(post.chain) -s \(net).0/24 ! -o \(bridge) -j MASQUERADE",
                            "iptables -t nat -A \(post.hook) -j \(post.chain)"]
            if role == .server {
                iptables += ["iptables -t nat -N \(pre.chain)"]
                    + ["tcp", "udp"].map { "iptables -t nat -A \(pre.chain) -d \(ip) -p \($0) --dport \(agentPort) -j DNAT --to-destination \(net).2" }
                    + ["iptables -t nat -A \(pre.hook) -j \(pre.chain)"]
            }
            // What Docker accepts in FORWARD for a container with a published port: its own traffic
            // out, the replies to it, and (server) new connections to the published port. First in
            // FORWARD, so a policy of DROP (Docker's, ufw's) does not stop the path; a drop in a
            // table of its own (nftables) still does, and the cell then says so.
            var forward = ["iptables -N \(fwd.chain)", "iptables -A \(fwd.chain) -i \(bridge) ! -o \(bridge) -j ACCEPT",
                           "iptables -A \(fwd.chain) -o \(bridge) -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"]
            if role == .server {
                forward += ["tcp", "udp"].map { "iptables -A \(fwd.chain) -o \(bridge) -d \(net).2 -p \($0) --dport \(agentPort) -j ACCEPT" }
            }
            forward.append("iptables -I \(fwd.hook) 1 -j \(fwd.chain)")
            let cmd = "if command -v nft > /dev/null 2>&1 && nft list tables > /dev/null 2>&1; then fw=nft; "
                + "elif command -v iptables > /dev/null 2>&1; then fw=iptables; "
                + "else echo 'the docker path needs nft (nftables) or iptables on this host for its NAT rules' >&2; exit 1; fi; "
                + "mkdir -p \(d) || exit 1; \(RemoteLayout.dockerRemoval(runDirectory: d)); "
                + "cat /proc/sys/net/ipv4/ip_forward > \(RemoteLayout.ipForwardFile(in: d)) || exit 1; "
                + "echo \(ns) > \(RemoteLayout.dockerNamespaceFile(in: d)) || exit 1; "
                // The container's MTU is the underlay's, as Docker's is on a host with a 1500-byte NIC.
                + "u=$(ip -o route get \(peer) | sed -n 's/.* dev \\([^ ]*\\).*/\\1/p'); "
                + "m=$(ip -o link show dev \"$u\" | sed -n 's/.* mtu \\([0-9]*\\).*/\\1/p'); [ -n \"$m\" ] || exit 1; "
                + "ip netns add \(ns) && ip link add \(bridge) type bridge && ip addr add \(net).1/24 dev \(bridge) && "
                + "ip link set \(bridge) up && ip link add \(veth) mtu $m type veth peer name eth0 mtu $m netns \(ns) && "
                + "ip link set \(veth) master \(bridge) up && ip -n \(ns) addr add \(net).2/24 dev eth0 && "
                + "ip -n \(ns) link set lo up && ip -n \(ns) link set eth0 up && ip -n \(ns) route add default via \(net).1 && "
                + "echo 1 > /proc/sys/net/ipv4/ip_forward && "
                + "if [ $fw = nft ]; then printf '%s\\n' " + rules.map { "\"\($0)\"" }.joined(separator: " ") + " | nft -f -; "
                + "else " + iptables.joined(separator: " && ") + "; fi && "
                + "if command -v iptables > /dev/null 2>&1 && iptables -S \(fwd.hook) > /dev/null 2>&1; then "
                + forward.joined(separator: " && ") + "; fi"
            return PathStep(role: role, command: cmd, privileged: true, what: "build the docker-style container network")
        }
        func remove(_ role: Instance.Role, side: Side) -> PathStep {
            PathStep(role: role, command: RemoteLayout.dockerRemoval(runDirectory: side.runDirectory), privileged: true,
                     what: "remove the docker-style container network")
        }
        let s = pair.server.testIP, c = pair.client.testIP
        var setup = PathSetup(path: .docker,
                              setup: [create(.server, side: server, ip: s, peer: c), create(.client, side: client, ip: c, peer: s)],
                              teardown: [remove(.server, side: server), remove(.client, side: client)],
                              serverAddress: s, clientAddress: c, expectedDevice: nil)
        setup.serverNetns = "/var/run/netns/" + RemoteLayout.dockerNamespace(testIP: s)
        setup.clientNetns = "/var/run/netns/" + RemoteLayout.dockerNamespace(testIP: c)
        setup.datapath = Datapath(kind: .bridgeNAT, device: bridge, encapOverheadBytes: 0, product: "cloudbench")
        return setup
    }
}
