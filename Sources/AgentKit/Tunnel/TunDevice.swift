#if canImport(Glibc)
import Glibc
#endif

/// Creating and configuring a TUN device with ioctls, so the agent needs no `ip` binary.
enum TunDevice {
    // From <linux/if_tun.h> and <linux/sockios.h>.
    static let TUNSETIFF: UInt = 0x4004_54CA
    static let IFF_TUN: Int16 = 0x0001
    static let IFF_NO_PI: Int16 = 0x1000
    static let SIOCSIFADDR: UInt = 0x8916
    static let SIOCSIFNETMASK: UInt = 0x891C
    static let SIOCSIFMTU: UInt = 0x8922
    static let SIOCGIFFLAGS: UInt = 0x8913
    static let SIOCSIFFLAGS: UInt = 0x8914
    /// sizeof(struct ifreq) on Linux: a 16-byte name and a 24-byte union.
    static let ifreqSize = 40

    /// Opens /dev/net/tun and attaches a new TUN device named `name` (no packet-info header).
    static func create(name: String) throws(TunnelError) -> Int32 {
        guard name.utf8.count <= 15, !name.isEmpty else { throw TunnelError(call: "TUNSETIFF(\(name)): name too long", errno: EINVAL) }
        let fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { throw TunnelError(call: "open(/dev/net/tun)", errno: errno) }
        var req = ifreq(name: name)
        req.setShort(IFF_TUN | IFF_NO_PI)
        let rc = req.bytes.withUnsafeMutableBytes { ioctl(fd, TUNSETIFF, $0.baseAddress!) }
        guard rc == 0 else { let e = errno; close(fd); throw TunnelError(call: "ioctl(TUNSETIFF, \(name))", errno: e) }
        return fd
    }

    /// Sets the IPv4 address, netmask and MTU, and brings the device up.
    static func configure(name: String, ip: String, prefixLength: Int, mtu: Int) throws(TunnelError) {
        let s = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard s >= 0 else { throw TunnelError(call: "socket(ioctl)", errno: errno) }
        defer { close(s) }
        func call(_ request: UInt, _ label: String, _ fill: (inout ifreq) throws(TunnelError) -> Void) throws(TunnelError) {
            var req = ifreq(name: name)
            try fill(&req)
            let rc = req.bytes.withUnsafeMutableBytes { ioctl(s, request, $0.baseAddress!) }
            guard rc == 0 else { throw TunnelError(call: "ioctl(\(label), \(name))", errno: errno) }
        }
        try call(SIOCSIFADDR, "SIOCSIFADDR") { (r: inout ifreq) throws(TunnelError) in try r.setIPv4(ip) }
        let mask = prefixLength == 0 ? UInt32(0) : UInt32.max << UInt32(32 - prefixLength)
        try call(SIOCSIFNETMASK, "SIOCSIFNETMASK") { (r: inout ifreq) throws(TunnelError) in
            try r.setIPv4("\(mask >> 24).\((mask >> 16) & 255).\((mask >> 8) & 255).\(mask & 255)")
        }
        try call(SIOCSIFMTU, "SIOCSIFMTU") { (r: inout ifreq) throws(TunnelError) in r.setInt(Int32(mtu)) }
        var flags = ifreq(name: name)
        let rc = flags.bytes.withUnsafeMutableBytes { ioctl(s, SIOCGIFFLAGS, $0.baseAddress!) }
        guard rc == 0 else { throw TunnelError(call: "ioctl(SIOCGIFFLAGS, \(name))", errno: errno) }
        let up = flags.short | Int16(IFF_UP) | Int16(IFF_RUNNING)
        try call(SIOCSIFFLAGS, "SIOCSIFFLAGS") { (r: inout ifreq) throws(TunnelError) in r.setShort(up) }
    }

    /// `struct ifreq` as raw bytes: the name, then the union at offset 16.
    struct ifreq {
        var bytes = [UInt8](repeating: 0, count: TunDevice.ifreqSize)
        init(name: String) { for (i, b) in name.utf8.prefix(15).enumerated() { bytes[i] = b } }
        mutating func setShort(_ v: Int16) { bytes[16] = UInt8(truncatingIfNeeded: v); bytes[17] = UInt8(truncatingIfNeeded: v >> 8) }
        var short: Int16 { Int16(bytes[16]) | (Int16(bytes[17]) << 8) }
        mutating func setInt(_ v: Int32) { for i in 0..<4 { bytes[16 + i] = UInt8(truncatingIfNeeded: v >> (8 * Int32(i))) } }
        /// A sockaddr_in: family (2 bytes, host order), port (2), address (4, network order).
        mutating func setIPv4(_ ip: String) throws(TunnelError) {
            var a = in_addr()
            guard inet_pton(AF_INET, ip, &a) == 1 else { throw TunnelError(call: "inet_pton(\(ip))", errno: EINVAL) }
            let family = UInt16(AF_INET)
            bytes[16] = UInt8(family & 0xFF); bytes[17] = UInt8(family >> 8)
            bytes[18] = 0; bytes[19] = 0
            withUnsafeBytes(of: a.s_addr) { for i in 0..<4 { bytes[20 + i] = $0[i] } }
        }
    }
}
