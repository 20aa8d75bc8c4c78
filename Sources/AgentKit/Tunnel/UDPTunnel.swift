#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// A user-space overlay: IP packets read from a TUN device travel to one peer inside UDP
/// datagrams, and datagrams from that peer are written back to the device.
///
/// This is what Flannel's UDP backend and Weave's sleeve do, and costs what they cost: every
/// packet crosses into user space twice. Datagrams from any address but the configured peer are
/// dropped, so the tunnel cannot be used to inject packets from elsewhere.
public final class UDPTunnel: @unchecked Sendable {
    public struct Config: Sendable {
        /// TUN device name, at most 15 bytes.
        public var device: String
        /// The UDP address this end binds, e.g. the host's test IP and port 8285.
        public var localIP: String
        public var localPort: UInt16
        /// The other end's UDP address.
        public var peerIP: String
        public var peerPort: UInt16
        /// This end's address inside the tunnel and the prefix length, e.g. 10.254.253.1/30.
        public var tunnelIP: String
        public var prefixLength: Int
        /// Device MTU: the underlay's MTU less 28 bytes (IPv4 and UDP headers).
        public var mtu: Int

        public init(device: String, localIP: String, localPort: UInt16, peerIP: String, peerPort: UInt16,
                    tunnelIP: String, prefixLength: Int, mtu: Int) {
            self.device = device
            self.localIP = localIP
            self.localPort = localPort
            self.peerIP = peerIP
            self.peerPort = peerPort
            self.tunnelIP = tunnelIP
            self.prefixLength = prefixLength
            self.mtu = mtu
        }
    }

    public let config: Config
    private let tunFD: Int32
    private let udpFD: Int32
    private var peer = sockaddr_in()
    /// Atomic, so that a signal handler may set it.
    private let stopped = Atomic<Bool>(false)
    /// Packets and bytes each way, for the tunnel's own report.
    public private(set) var packetsOut = 0, packetsIn = 0, droppedForeign = 0

    /// Creates and configures the TUN device and binds the UDP socket. Needs CAP_NET_ADMIN.
    public init(_ config: Config) throws(TunnelError) {
        self.config = config
        tunFD = try TunDevice.create(name: config.device)
        do {
            try TunDevice.configure(name: config.device, ip: config.tunnelIP, prefixLength: config.prefixLength, mtu: config.mtu)
            udpFD = try UDPTunnel.bind(ip: config.localIP, port: config.localPort)
        } catch {
            close(tunFD)
            throw error
        }
        peer.sin_family = sa_family_t(AF_INET)
        peer.sin_port = config.peerPort.bigEndian
        guard inet_pton(AF_INET, config.peerIP, &peer.sin_addr) == 1 else {
            close(tunFD); close(udpFD)
            throw TunnelError(call: "inet_pton(\(config.peerIP))", errno: EINVAL)
        }
    }

    deinit {
        close(tunFD)
        close(udpFD)
    }

    /// Forwards both ways until `stop()` or until `deadline` (CLOCK_MONOTONIC seconds) passes.
    public func run(deadline: Double) {
        let inbound = TunnelThread { [self] in self.forwardInbound(deadline: deadline) }
        forwardOutbound(deadline: deadline)
        inbound.join()
    }

    public func stop() { stopped.store(true, ordering: .relaxed) }

    private var isStopped: Bool { stopped.load(ordering: .relaxed) }

    /// TUN → UDP.
    private func forwardOutbound(deadline: Double) {
        var buf = [UInt8](repeating: 0, count: 65_536)
        while !isStopped && tunnelClock() < deadline {
            guard UDPTunnel.waitReadable(tunFD, ms: 200) else { continue }
            let n = buf.withUnsafeMutableBytes { read(tunFD, $0.baseAddress, $0.count) }
            guard n > 0 else { continue }
            _ = buf.withUnsafeBytes { b in
                withUnsafePointer(to: &peer) { p in
                    p.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        sendto(udpFD, b.baseAddress, n, Int32(MSG_DONTWAIT), $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                    }
                }
            }
            packetsOut += 1
        }
        stop()
    }

    /// UDP → TUN, from the peer only.
    private func forwardInbound(deadline: Double) {
        var buf = [UInt8](repeating: 0, count: 65_536)
        var from = sockaddr_in()
        while !isStopped && tunnelClock() < deadline {
            guard UDPTunnel.waitReadable(udpFD, ms: 200) else { continue }
            var len = socklen_t(MemoryLayout<sockaddr_in>.size)
            let n = buf.withUnsafeMutableBytes { b in
                withUnsafeMutablePointer(to: &from) { p in
                    p.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(udpFD, b.baseAddress, b.count, 0, $0, &len) }
                }
            }
            guard n > 0 else { continue }
            guard from.sin_addr.s_addr == peer.sin_addr.s_addr, from.sin_port == peer.sin_port else {
                droppedForeign += 1
                continue
            }
            _ = buf.withUnsafeBytes { write(tunFD, $0.baseAddress, n) }
            packetsIn += 1
        }
        stop()
    }

    static func waitReadable(_ fd: Int32, ms: Int32) -> Bool {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&p, 1, ms) > 0 && (p.revents & Int16(POLLIN)) != 0
    }

    static func bind(ip: String, port: UInt16) throws(TunnelError) -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw TunnelError(call: "socket(udp)", errno: errno) }
        var size: Int32 = 4 << 20
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        guard inet_pton(AF_INET, ip, &addr.sin_addr) == 1 else { close(fd); throw TunnelError(call: "inet_pton(\(ip))", errno: EINVAL) }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else { let e = errno; close(fd); throw TunnelError(call: "bind(\(ip):\(port))", errno: e) }
        return fd
    }
}

/// A failed system call of the tunnel, named, with its errno.
public struct TunnelError: Error, CustomStringConvertible, Sendable {
    public var call: String
    public var errno: Int32
    public init(call: String, errno: Int32) { self.call = call; self.errno = errno }
    public var description: String { "\(call) failed: \(String(cString: strerror(errno)))" }
}

/// CLOCK_MONOTONIC in seconds.
public func tunnelClock() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// A joinable POSIX thread running a closure.
final class TunnelThread {
    private var thread = pthread_t()
    private final class Box { let body: () -> Void; init(_ b: @escaping () -> Void) { body = b } }

    init(_ body: @escaping () -> Void) {
        let box = Unmanaged.passRetained(Box(body)).toOpaque()
        pthread_create(&thread, nil, { raw in
            let b = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
            b.body()
            return nil
        }, box)
    }

    func join() { pthread_join(thread, nil) }
}
