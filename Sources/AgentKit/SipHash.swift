/// SipHash-2-4 (Aumasson and Bernstein, 2012): a keyed pseudo-random function for short
/// messages, fast enough to tag every datagram of the user-space tunnel. With `tagBytes` 8 it is
/// SipHash-2-4 (a 64-bit tag), with 16 SipHash-2-4-128; both are checked against the reference
/// implementation's vectors.
///
/// A value of two words: no allocation, and it may be shared between threads.
public struct SipHash: Sendable {
    private let k0, k1: UInt64

    /// The key: 16 bytes, read as two little-endian words.
    public init(key: [UInt8]) {
        precondition(key.count == 16, "a SipHash key is 16 bytes")
        var k0: UInt64 = 0, k1: UInt64 = 0
        for i in (0..<8).reversed() {
            k0 = k0 << 8 | UInt64(key[i])
            k1 = k1 << 8 | UInt64(key[8 + i])
        }
        self.k0 = k0
        self.k1 = k1
    }

    /// Writes the `tagBytes`-byte tag (8 or 16) of `message[0..<length]` to `out`, as the
    /// reference implementation does (each word little-endian).
    @inline(__always)
    public func tag(_ message: UnsafeRawPointer, length: Int, into out: UnsafeMutableRawPointer, tagBytes: Int) {
        let wide = tagBytes == 16
        var v0 = k0 ^ 0x736f_6d65_7073_6575
        var v1 = k1 ^ 0x646f_7261_6e64_6f6d
        var v2 = k0 ^ 0x6c79_6765_6e65_7261
        var v3 = k1 ^ 0x7465_6462_7974_6573
        if wide { v1 ^= 0xee }

        @inline(__always) func round() {
            v0 = v0 &+ v1; v1 = rotate(v1, 13); v1 ^= v0; v0 = rotate(v0, 32)
            v2 = v2 &+ v3; v3 = rotate(v3, 16); v3 ^= v2
            v0 = v0 &+ v3; v3 = rotate(v3, 21); v3 ^= v0
            v2 = v2 &+ v1; v1 = rotate(v1, 17); v1 ^= v2; v2 = rotate(v2, 32)
        }

        let blocks = length / 8
        var offset = 0
        while offset < blocks &* 8 {
            let m = UInt64(littleEndian: message.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
            v3 ^= m
            round(); round()
            v0 ^= m
            offset &+= 8
        }
        // The last 0–7 bytes, and the length's low byte in the top byte.
        var b = UInt64(truncatingIfNeeded: length) &<< 56
        var i = length &- offset
        while i > 0 {
            i &-= 1
            b |= UInt64(message.load(fromByteOffset: offset &+ i, as: UInt8.self)) &<< UInt64(i &* 8)
        }
        v3 ^= b
        round(); round()
        v0 ^= b

        v2 ^= wide ? 0xee : 0xff
        round(); round(); round(); round()
        out.storeBytes(of: (v0 ^ v1 ^ v2 ^ v3).littleEndian, toByteOffset: 0, as: UInt64.self)
        guard wide else { return }
        v1 ^= 0xdd
        round(); round(); round(); round()
        out.storeBytes(of: (v0 ^ v1 ^ v2 ^ v3).littleEndian, toByteOffset: 8, as: UInt64.self)
    }

    /// The tag of `message`, for tests and keys.
    public func tag(_ message: [UInt8], tagBytes: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: tagBytes)
        message.withUnsafeBytes { m in
            out.withUnsafeMutableBytes { tag(m.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!, length: m.count, into: $0.baseAddress!, tagBytes: tagBytes) }
        }
        return out
    }
}

@inline(__always)
private func rotate(_ x: UInt64, _ n: UInt64) -> UInt64 { x &<< n | x &>> (64 &- n) }
