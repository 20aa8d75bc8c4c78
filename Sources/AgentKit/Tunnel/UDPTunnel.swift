#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import Syscall

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
    public init(_ config: Config) throws(SystemError) {
        self.config = config
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
        let buf = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 16)
        defer { buf.deallocate() }
        var to = peer
        while !isStopped && Clock.now() < deadline {
            guard UDPTunnel.waitReadable(tunFD) else { continue }
            guard let n = (try? Posix.read(tunFD, buf, size))?.value, n > 0 else { continue }
            _ = withUnsafePointer(to: &to) { p in
                p.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    try? Posix.sendto(udpFD, buf, n, flags: Int32(MSG_DONTWAIT), $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            packetsOut += 1
        }
        stop()
    }

    /// UDP → TUN, from the peer only.
    private func forwardInbound(deadline: Double) {
        let size = 65_536
        let buf = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 16)
        defer { buf.deallocate() }
        var from = sockaddr_in()
        while !isStopped && Clock.now() < deadline {
            guard UDPTunnel.waitReadable(udpFD) else { continue }
            var len = socklen_t(MemoryLayout<sockaddr_in>.size)
            let n = withUnsafeMutablePointer(to: &from) { p in
                p.withMemoryRebound(to: sockaddr.self, capacity: 1) { (try? Posix.recvfrom(udpFD, buf, size, $0, &len))?.value ?? 0 }
            }
            guard n > 0 else { continue }
            guard from.sin_addr.s_addr == peer.sin_addr.s_addr, from.sin_port == peer.sin_port else {
                droppedForeign += 1
                continue
            }
            _ = try? Posix.write(tunFD, buf, n)
            packetsIn += 1
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
