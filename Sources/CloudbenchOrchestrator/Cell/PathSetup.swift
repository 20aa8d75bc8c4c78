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
    public static func make(path: PathKind, pair: Pair, server: Side, client: Side, deadline: Int, pathKey: String) -> PathSetup {
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
                    + "--lease \(RemoteLayout.leaseFile(in: runDirectory)) "
                    + "> \(runDirectory)/tunnel.log 2>&1 <&3 3<&- & exec 3<&-; echo $! > \(pidFile); "
                    + "for i in $(seq 1 50); do ip -o addr show dev \(dev) 2>/dev/null | grep -q ' \(ip)/' && exit 0; "
                    + "\(shellProcessRuns("$(cat \(pidFile))")) || break; sleep 0.1; done; "
                    + "cat \(runDirectory)/tunnel.log >&2; exit 1"
                return PathStep(role: role, command: cmd, privileged: true, what: "start the user-space UDP tunnel \(dev)",
                                input: pathKey + "\n")
            }
            func stop(_ role: Instance.Role) -> PathStep {
                let runDirectory = side(role).runDirectory
                let cmd = "p=$(cat \(runDirectory)/tunnel.pid 2>/dev/null); "
                    + "if [ -n \"$p\" ] && grep -q cloudbench-agent /proc/$p/cmdline 2>/dev/null; then kill $p; fi; "
                    + "rm -f \(runDirectory)/tunnel.pid \(runDirectory)/tunnel.log; "
                    + "for i in $(seq 1 30); do [ -e /sys/class/net/\(dev) ] || exit 0; sleep 0.1; done; ip link del \(dev) 2>/dev/null; true"
                return PathStep(role: role, command: cmd, privileged: true, what: "stop the UDP tunnel")
            }
            return PathSetup(
                path: path,
                setup: [start(.server, local: s, remote: c, ip: "\(net).1"), start(.client, local: c, remote: s, ip: "\(net).2")],
                teardown: [stop(.server), stop(.client)],
                serverAddress: "\(net).1", clientAddress: "\(net).2", expectedDevice: dev)

        case .external(let name):
            var setup = PathSetup(path: path, setup: [], teardown: [],
                                  serverAddress: pair.server.overlays[name] ?? s, clientAddress: pair.client.overlays[name] ?? c,
                                  expectedDevice: nil)
            setup.namespaced = pair.server.overlayNamespaces[name] != nil || pair.client.overlayNamespaces[name] != nil
            return setup
        }
    }
}
