#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import Syscall

/// A user-space overlay: IP packets read from a TUN device travel to one peer inside UDP
/// datagrams, and datagrams from that peer are written back to the device.
///
/// This is what Flannel's UDP backend and Weave's sleeve do, and costs what they cost: every
/// packet crosses into user space twice. Every datagram carries a counter and a tag
/// (`TunnelAuthenticator`) under the path instance's key: datagrams from any address but the
/// configured peer, with a wrong tag, or replayed, are dropped and counted, so the tunnel cannot
/// be used to inject packets, even with a spoofed source address.
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
        /// Device MTU: the underlay's MTU less `UDPTunnel.overhead`.
        public var mtu: Int
        /// The path instance's key, from which each direction's datagram key is derived.
        public var pathKey: String

        public init(device: String, localIP: String, localPort: UInt16, peerIP: String, peerPort: UInt16,
                    tunnelIP: String, prefixLength: Int, mtu: Int, pathKey: String) {
            self.device = device
            self.localIP = localIP
            self.localPort = localPort
            self.peerIP = peerIP
            self.peerPort = peerPort
            self.tunnelIP = tunnelIP
            self.prefixLength = prefixLength
            self.mtu = mtu
            self.pathKey = pathKey
        }
    }

    /// What a datagram costs of the underlay's MTU: IPv4 and UDP headers, and the authenticator.
    public static let overhead = 20 + 8 + TunnelAuthenticator.overhead

    public let config: Config
    private let tunFD: Int32
    private let udpFD: Int32
    private var peer = sockaddr_in()
    /// Atomic, so that a signal handler may set it.
    private let stopped = Atomic<Bool>(false)
    private let sealer: TunnelAuthenticator, opener: TunnelAuthenticator
    /// Packets each way, and datagrams dropped: from another address, failing their tag
    /// (forged, altered or too short), or replayed. Atomic, so they can be read while it runs.
    private let outCount = Atomic<Int>(0), inCount = Atomic<Int>(0), foreignCount = Atomic<Int>(0),
                unauthenticatedCount = Atomic<Int>(0), replayedCount = Atomic<Int>(0)
    public var packetsOut: Int { outCount.load(ordering: .relaxed) }
    public var packetsIn: Int { inCount.load(ordering: .relaxed) }
    public var droppedForeign: Int { foreignCount.load(ordering: .relaxed) }
    public var droppedUnauthenticated: Int { unauthenticatedCount.load(ordering: .relaxed) }
    public var droppedReplayed: Int { replayedCount.load(ordering: .relaxed) }

    /// One line for the tunnel's log.
    public var summary: String {
        "\(packetsOut) packets out, \(packetsIn) in; dropped \(droppedForeign) datagrams from other addresses, "
            + "\(droppedUnauthenticated) failing authentication, \(droppedReplayed) replayed"
    }

    /// Creates and configures the TUN device and binds the UDP socket. Needs CAP_NET_ADMIN.
    public init(_ config: Config) throws(SystemError) {
        self.config = config
        sealer = TunnelAuthenticator(pathKey: config.pathKey, from: "\(config.localIP):\(config.localPort)")
        opener = TunnelAuthenticator(pathKey: config.pathKey, from: "\(config.peerIP):\(config.peerPort)")
        tunFD = try TunDevice.create(name: config.device)
        do {
            try TunDevice.configure(name: config.device, ip: config.tunnelIP, prefixLength: config.prefixLength, mtu: config.mtu)
            udpFD = try UDPTunnel.bind(ip: config.localIP, port: config.localPort)
        } catch {
            Posix.close(tunFD)
            throw error
        }
        peer = try UDPTunnel.address(config.peerIP, config.peerPort, closing: [tunFD, udpFD])
    }

    deinit {
        Posix.close(tunFD)
        Posix.close(udpFD)
    }

    /// Forwards both ways until `stop()` or until `deadline` (`Clock` seconds) passes.
    public func run(deadline: Double) throws(SystemError) {
        let inbound = try WorkerThread { [self] in self.forwardInbound(deadline: deadline) }
        forwardOutbound(deadline: deadline)
        inbound.join()
    }

    public func stop() { stopped.store(true, ordering: .relaxed) }

    private var isStopped: Bool { stopped.load(ordering: .relaxed) }

    /// TUN → UDP. A packet that cannot be sent (a full queue, an ICMP error) is dropped, as
    /// on a wire; the loop goes on until the deadline or `stop()`.
    private func forwardOutbound(deadline: Double) {
        let size = 65_536
        let buf = UnsafeMutableRawPointer.allocate(byteCount: size + TunnelAuthenticator.overhead, alignment: 16)
        defer { buf.deallocate() }
        var to = peer
        var counter: UInt64 = 0
        while !isStopped && Clock.now() < deadline {
            guard UDPTunnel.waitReadable(tunFD) else { continue }
            guard let n = (try? Posix.read(tunFD, buf + TunnelAuthenticator.counterBytes, size))?.value, n > 0 else { continue }
            counter += 1
            let length = sealer.seal(buf, packetLength: n, counter: counter)
            _ = withUnsafePointer(to: &to) { p in
                p.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    try? Posix.sendto(udpFD, buf, length, flags: Int32(MSG_DONTWAIT), $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            outCount.add(1, ordering: .relaxed)
        }
        stop()
    }

    /// UDP → TUN: from the peer's address, with a right tag and a counter not seen before.
    private func forwardInbound(deadline: Double) {
        let size = 65_536
        let buf = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 16)
        let expected = UnsafeMutableRawPointer.allocate(byteCount: TunnelAuthenticator.tagBytes, alignment: 16)
        defer { buf.deallocate(); expected.deallocate() }
        var from = sockaddr_in()
        var window = ReplayWindow()
        while !isStopped && Clock.now() < deadline {
            guard UDPTunnel.waitReadable(udpFD) else { continue }
            var len = socklen_t(MemoryLayout<sockaddr_in>.size)
            let n = withUnsafeMutablePointer(to: &from) { p in
                p.withMemoryRebound(to: sockaddr.self, capacity: 1) { (try? Posix.recvfrom(udpFD, buf, size, $0, &len))?.value ?? 0 }
            }
            guard n > 0 else { continue }
            guard from.sin_addr.s_addr == peer.sin_addr.s_addr, from.sin_port == peer.sin_port else {
                foreignCount.add(1, ordering: .relaxed)
                continue
            }
            guard let counter = opener.open(buf, length: n, scratch: expected) else {
                unauthenticatedCount.add(1, ordering: .relaxed)
                continue
            }
            guard window.accept(counter) else {
                replayedCount.add(1, ordering: .relaxed)
                continue
            }
            _ = try? Posix.write(tunFD, buf + TunnelAuthenticator.counterBytes, n - TunnelAuthenticator.overhead)
            inCount.add(1, ordering: .relaxed)
        }
        stop()
    }

    /// Readable within 200 ms, so the loops see `stop()` and the deadline.
    static func waitReadable(_ fd: Int32) -> Bool {
        (try? Posix.wait(fd, for: Int16(POLLIN), until: Deadline(seconds: 0.2))) ?? false
    }

    /// An IPv4 socket address; closes `closing` before throwing for a malformed address.
    static func address(_ ip: String, _ port: UInt16, closing: [Int32] = []) throws(SystemError) -> sockaddr_in {
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        guard inet_pton(AF_INET, ip, &addr.sin_addr) == 1 else {
            closing.forEach(Posix.close)
            throw SystemError(call: "inet_pton(\(ip))", errno: EINVAL)
        }
        return addr
    }

    static func bind(ip: String, port: UInt16) throws(SystemError) -> Int32 {
        let fd = try Posix.socket(AF_INET, Int32(SOCK_DGRAM.rawValue))
        // Large buffers absorb bursts; a kernel that caps them still works, with more loss.
        try? Posix.setOption(fd, SOL_SOCKET, SO_RCVBUF, Int32(4 << 20), "setsockopt(SO_RCVBUF)")
        try? Posix.setOption(fd, SOL_SOCKET, SO_SNDBUF, Int32(4 << 20), "setsockopt(SO_SNDBUF)")
        var addr = try address(ip, port, closing: [fd])
        do {
            try withUnsafePointer(to: &addr) { (p) throws(SystemError) in
                try p.withMemoryRebound(to: sockaddr.self, capacity: 1) { (sp) throws(SystemError) in
                    try Posix.bind(fd, sp, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        } catch {
            Posix.close(fd)
            throw SystemError(call: "bind(\(ip):\(port))", errno: error.errno)
        }
        return fd
    }
}
