/// HMAC-SHA256 with a fixed key, for many short messages: the key's inner and outer blocks are
/// hashed once, and each message then costs its own blocks plus one, with no allocation.
///
/// Not for sharing between threads (it keeps its scratch space); make one per thread.
public final class HMACKey {
    /// The states after the key's ipad and opad blocks, the schedule, the round constants and
    /// room for a message's last blocks.
    private let inner, outer, state, w, k: UnsafeMutablePointer<UInt32>
    private let tail: UnsafeMutableRawPointer

    public init(_ key: [UInt8]) {
        var padded = key.count > 64 ? SHA256.hash(key) : key
        padded += [UInt8](repeating: 0, count: 64 - padded.count)
        inner = .allocate(capacity: 8)
        outer = .allocate(capacity: 8)
        state = .allocate(capacity: 8)
        w = .allocate(capacity: 64)
        k = .allocate(capacity: 64)
        tail = .allocate(byteCount: 128, alignment: 16)
        SHA256.k.withUnsafeBufferPointer { k.initialize(from: $0.baseAddress!, count: 64) }
        for (midstate, pad) in [(inner, UInt8(0x36)), (outer, UInt8(0x5c))] {
            SHA256.initial.withUnsafeBufferPointer { midstate.initialize(from: $0.baseAddress!, count: 8) }
            padded.map { $0 ^ pad }.withUnsafeBytes { SHA256.compress(midstate, $0.baseAddress!, w, k) }
        }
    }

    deinit {
        for p in [inner, outer, state, w, k] { p.deallocate() }
        tail.deallocate()
    }

    /// Writes the first `count` bytes (at most 32) of HMAC-SHA256(key, `message[0..<length]`) to `out`.
    public func tag(_ message: UnsafeRawPointer, length: Int, into out: UnsafeMutableRawPointer, count: Int) {
        state.update(from: inner, count: 8)
        let full = length / 64
        for i in 0..<full { SHA256.compress(state, message + i * 64, w, k) }
        let rest = length - full * 64
        // The message's last bytes, 0x80, zeros and the bit length (the key block included).
        tail.initializeMemory(as: UInt8.self, repeating: 0, count: 128)
        tail.copyMemory(from: message + full * 64, byteCount: rest)
        tail.storeBytes(of: 0x80, toByteOffset: rest, as: UInt8.self)
        let tailLength = rest + 9 <= 64 ? 64 : 128
        tail.storeBytes(of: (UInt64(64 + length) * 8).bigEndian, toByteOffset: tailLength - 8, as: UInt64.self)
        SHA256.compress(state, tail, w, k)
        if tailLength == 128 { SHA256.compress(state, tail + 64, w, k) }
        // The outer hash: the inner digest, padded to one block (64 + 32 bytes in all).
        tail.initializeMemory(as: UInt8.self, repeating: 0, count: 64)
        for i in 0..<8 { tail.storeBytes(of: state[i].bigEndian, toByteOffset: i * 4, as: UInt32.self) }
        tail.storeBytes(of: 0x80, toByteOffset: 32, as: UInt8.self)
        tail.storeBytes(of: UInt64(96 * 8).bigEndian, toByteOffset: 56, as: UInt64.self)
        state.update(from: outer, count: 8)
        SHA256.compress(state, tail, w, k)
        for i in 0..<8 { tail.storeBytes(of: state[i].bigEndian, toByteOffset: i * 4, as: UInt32.self) }
        out.copyMemory(from: tail, byteCount: min(count, 32))
    }

    /// The full 32-byte tag of `message`.
    public func tag(_ message: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        message.withUnsafeBytes { m in
            out.withUnsafeMutableBytes { tag(m.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!, length: m.count, into: $0.baseAddress!, count: 32) }
        }
        return out
    }
}
