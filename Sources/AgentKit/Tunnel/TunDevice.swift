#if canImport(Glibc)
import Glibc
#endif
import Syscall

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
    static func create(name: String) throws(SystemError) -> Int32 {
        guard name.utf8.count <= 15, !name.isEmpty else { throw SystemError(call: "TUNSETIFF(\(name)): name too long", errno: EINVAL) }
        let fd = try Posix.open("/dev/net/tun", O_RDWR)
        var req = ifreq(name: name)
        req.setShort(IFF_TUN | IFF_NO_PI)
        do {
            try req.ioctl(fd, TUNSETIFF, "TUNSETIFF, \(name)")
        } catch {
            Posix.close(fd)
            throw error
        }
        return fd
    }

    /// Sets the IPv4 address, netmask and MTU, and brings the device up.
    static func configure(name: String, ip: String, prefixLength: Int, mtu: Int) throws(SystemError) {
        let s = try Posix.socket(AF_INET, Int32(SOCK_DGRAM.rawValue))
        defer { Posix.close(s) }
        func call(_ request: UInt, _ label: String, _ fill: (inout ifreq) throws(SystemError) -> Void) throws(SystemError) {
            var req = ifreq(name: name)
            try fill(&req)
            try req.ioctl(s, request, "\(label), \(name)")
        }
        try call(SIOCSIFADDR, "SIOCSIFADDR") { (r: inout ifreq) throws(SystemError) in try r.setIPv4(ip) }
        let mask = prefixLength == 0 ? UInt32(0) : UInt32.max << UInt32(32 - prefixLength)
        try call(SIOCSIFNETMASK, "SIOCSIFNETMASK") { (r: inout ifreq) throws(SystemError) in
            try r.setIPv4("\(mask >> 24).\((mask >> 16) & 255).\((mask >> 8) & 255).\(mask & 255)")
        }
        try call(SIOCSIFMTU, "SIOCSIFMTU") { (r: inout ifreq) throws(SystemError) in r.setInt(Int32(mtu)) }
        var flags = ifreq(name: name)
        try flags.ioctl(s, SIOCGIFFLAGS, "SIOCGIFFLAGS, \(name)")
        let up = flags.short | Int16(IFF_UP) | Int16(IFF_RUNNING)
        try call(SIOCSIFFLAGS, "SIOCSIFFLAGS") { (r: inout ifreq) throws(SystemError) in r.setShort(up) }
    }

    /// `struct ifreq` as raw bytes: the name, then the union at offset 16.
    struct ifreq {
        var bytes = [UInt8](repeating: 0, count: TunDevice.ifreqSize)
        init(name: String) { for (i, b) in name.utf8.prefix(15).enumerated() { bytes[i] = b } }
        /// Passes the request's bytes to `ioctl` on `fd`, which may fill them in.
        mutating func ioctl(_ fd: Int32, _ request: UInt, _ label: String) throws(SystemError) {
            let buffer = UnsafeMutableRawPointer.allocate(byteCount: bytes.count, alignment: 8)
            defer { buffer.deallocate() }
            bytes.withUnsafeBytes { buffer.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
            try Posix.ioctl(fd, request, buffer, label)
            bytes = Array(UnsafeRawBufferPointer(start: buffer, count: bytes.count))
        }
        mutating func setShort(_ v: Int16) { bytes[16] = UInt8(truncatingIfNeeded: v); bytes[17] = UInt8(truncatingIfNeeded: v >> 8) }
        var short: Int16 { Int16(bytes[16]) | (Int16(bytes[17]) << 8) }
        mutating func setInt(_ v: Int32) { for i in 0..<4 { bytes[16 + i] = UInt8(truncatingIfNeeded: v >> (8 * Int32(i))) } }
        /// A sockaddr_in: family (2 bytes, host order), port (2), address (4, network order).
        mutating func setIPv4(_ ip: String) throws(SystemError) {
            var a = in_addr()
            guard inet_pton(AF_INET, ip, &a) == 1 else { throw SystemError(call: "inet_pton(\(ip))", errno: EINVAL) }
            let family = UInt16(AF_INET)
            bytes[16] = UInt8(family & 0xFF); bytes[17] = UInt8(family >> 8)
            bytes[18] = 0; bytes[19] = 0
            withUnsafeBytes(of: a.s_addr) { for i in 0..<4 { bytes[20 + i] = $0[i] } }
        }
    }
}
