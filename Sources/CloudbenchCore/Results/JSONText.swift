import Foundation

/// The JSON text of a record's `detail` as read from a results file (checked then by
/// `JSONScanner.check`, so well-formed), with the members of its top-level object indexed.
///
/// Each pass of a report looks a few keys up in every record's `detail`; without the index each
/// lookup would walk past every member before it, the per-second intervals included. One array
/// holds both: the text, then a key start, key end and value start (`UInt32`, offsets into the
/// text) per top-level member in order, then the text's length, then 1 when `keysSorted`.
struct JSONText: Hashable, Sendable {
    let storage: [UInt8]

    /// `index` holds three offsets per member of the top-level object (none when it is not one);
    /// `keysSorted`: every object's keys are plain ASCII in strictly increasing byte order
    /// (`JSONScanner.keysSorted`), so a lookup can stop at the first key at or past the one it wants.
    init(_ text: UnsafeBufferPointer<UInt8>, index: [UInt32], keysSorted: Bool) {
        let total = text.count + index.count * 4 + 5
        storage = [UInt8](unsafeUninitializedCapacity: total) { buffer, count in
            let raw = UnsafeMutableRawPointer(buffer.baseAddress!)
            raw.copyMemory(from: text.baseAddress!, byteCount: text.count)
            var at = text.count
            for v in index {
                raw.storeBytes(of: v.littleEndian, toByteOffset: at, as: UInt32.self)
                at += 4
            }
            raw.storeBytes(of: UInt32(text.count).littleEndian, toByteOffset: at, as: UInt32.self)
            raw.storeBytes(of: keysSorted ? 1 : 0, toByteOffset: at + 4, as: UInt8.self)
            count = total
        }
    }

    var count: Int { Int(load(storage.count - 5)) }

    var keysSorted: Bool { storage[storage.count - 1] == 1 }

    func load(_ offset: Int) -> UInt32 {
        storage.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: offset, as: UInt32.self)) }
    }

    subscript(i: Int) -> UInt8 { storage[i] }

    /// The text's bytes (without the index).
    func withBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        let n = count
        return storage.withUnsafeBufferPointer { body(UnsafeBufferPointer(rebasing: $0[0..<n])) }
    }

    /// The offset of the value of the last top-level member named `key` (an object's, else nil).
    func topLevelMember(_ key: UnsafeBufferPointer<UInt8>) -> Int? {
        let n = count
        return storage.withUnsafeBufferPointer { all -> Int? in
            let b = UnsafeBufferPointer(rebasing: all[0..<n])
            guard n > 0, b[0] == UInt8(ascii: "{") else { return nil }
            let raw = UnsafeRawBufferPointer(all)
            func at(_ o: Int) -> Int { Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: o, as: UInt32.self))) }
            let keyIsASCII = key.allSatisfy { $0 < 0x80 }
            let first = n, members = (all.count - 5 - n) / 12
            if keysSorted && keyIsASCII {
                // Plain keys in increasing order: a binary search.
                var low = 0, high = members
                while low < high {
                    let mid = (low + high) / 2, entry = first + mid * 12
                    let keyStart = at(entry), keyCount = at(entry + 4) - keyStart
                    let m = min(keyCount, key.count)
                    let d = m == 0 ? 0 : memcmp(b.baseAddress! + keyStart, key.baseAddress!, m)
                    if d == 0 && keyCount == key.count { return at(entry + 8) }
                    if d < 0 || (d == 0 && keyCount < key.count) { low = mid + 1 } else { high = mid }
                }
                return nil
            }
            var entry = first + (members - 1) * 12
            while entry >= first {  // the last member first: a repeated key's last one counts
                let keyStart = at(entry), keyEnd = at(entry + 4)
                if JSONView.keyMatches(key, keyIsASCII: keyIsASCII, b, keyStart, keyEnd) { return at(entry + 8) }
                entry -= 12
            }
            return nil
        }
    }
}
