#if canImport(Glibc)
import Glibc
#endif
import Syscall

/// The network device that carries traffic to a peer: the kernel's route choice, read by
/// connecting a UDP socket (which sends nothing) and asking which local address it got, then
/// which device holds that address.
enum CarrierDevice {
    static func toward(_ peer: SocketAddress) -> Result<String, NICCounters.Absent> {
        guard let fd = try? Posix.socket(peer.family, Int32(SOCK_DGRAM.rawValue)) else { return .failure(.noRoute) }
        defer { Posix.close(fd) }
        let connected = peer.withSockaddr { Glibc.connect(fd, $0, $1) == 0 }
        guard connected, let bound = try? Posix.localAddress(fd) else { return .failure(.noRoute) }
        let local = SocketAddress(storage: bound.0, length: bound.1).host
        guard let name = device(holding: local) else { return .failure(.noDevice) }
        return .success(name)
    }

    /// The device whose address is `host` (numeric, as `SocketAddress` prints it).
    static func device(holding host: String) -> String? {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0, let first = list else { return nil }
        defer { freeifaddrs(list) }
        var at: UnsafeMutablePointer<ifaddrs>? = first
        var seen = 0
        while let p = at, seen < 4096 {
            seen += 1
            defer { at = p.pointee.ifa_next }
            guard let sa = p.pointee.ifa_addr, let name = p.pointee.ifa_name else { continue }
            let family = Int32(sa.pointee.sa_family)
            guard family == AF_INET || family == AF_INET6 else { continue }
            var storage = sockaddr_storage()
            let size = family == AF_INET ? MemoryLayout<sockaddr_in>.size : MemoryLayout<sockaddr_in6>.size
            withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: UnsafeRawBufferPointer(start: sa, count: size)) }
            if SocketAddress(storage: storage, length: socklen_t(size)).host == host { return String(cString: name) }
        }
        return nil
    }
}
