import Testing
@testable import AgentKit

@Suite("SipHash-2-4")
struct SipHashTests {
    /// The reference implementation's vectors (github.com/veorq/SipHash, vectors.h): key 00..0f,
    /// message 00..(n-1) of n bytes, the tag's bytes as the reference writes them.
    static let sip64: [Int: String] = [
        0: "310e0edd47db6f72", 1: "fd67dc93c539f874", 7: "37d1018bf50002ab", 8: "6224939a79f5f593",
        9: "b0e4a90bdf82009e", 15: "e545be4961ca29a1", 16: "db9bc2577fcc2a3f", 17: "9447be2cf5e99a69",
        23: "c8ce5ccd8c030ca8", 24: "94af49f6c650adb8", 31: "42c341d8fa92d832", 32: "ce7cf2722f512771",
        63: "724506eb4c328a95",
    ]
    static let sip128: [Int: String] = [
        0: "a3817f04ba25a8e66df67214c7550293", 1: "da87c1d86b99af44347659119b22fc45",
        7: "a1f1ebbed8dbc153c0b84aa61ff08239", 8: "3b62a9ba6258f5610f83e264f31497b4",
        9: "264499060ad9baabc47f8b02bb6d71ed", 15: "5493e99933b0a8117e08ec0f97cfc3d9",
        16: "6ee2a4ca67b054bbfd3315bf85230577", 17: "473d06e8738db89854c066c47ae47740",
        63: "5150d1772f50834a503e069a973fbd7c",
    ]
    static let key = SipHash(key: (0..<16).map { UInt8($0) })

    @Test("the reference vectors, 64- and 128-bit tags, across the 8-byte block edges")
    func referenceVectors() {
        for (length, expected) in Self.sip64 {
            #expect(HMAC.hex(Self.key.tag((0..<length).map { UInt8($0) }, tagBytes: 8)) == expected, "64-bit, \(length) bytes")
        }
        for (length, expected) in Self.sip128 {
            #expect(HMAC.hex(Self.key.tag((0..<length).map { UInt8($0) }, tagBytes: 16)) == expected, "128-bit, \(length) bytes")
        }
        // As the paper writes its example: the 15-byte message's tag as one 64-bit word.
        let word = Self.key.tag((0..<15).map { UInt8($0) }, tagBytes: 8).reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        #expect(word == 0xa129_ca61_49be_45e5)
    }

    @Test("a message at an unaligned address, as in a datagram, has the same tag")
    func unaligned() {
        let message = (0..<1500).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let whole = Self.key.tag(message, tagBytes: 16)
        var shifted = [UInt8](repeating: 0, count: 3) + message + [UInt8](repeating: 0, count: 16)
        shifted.withUnsafeMutableBytes { p in
            Self.key.tag(p.baseAddress! + 3, length: 1500, into: p.baseAddress! + 1503, tagBytes: 16)
        }
        #expect(Array(shifted[1503...]) == whole)
        #expect(Self.key.tag(message.dropLast(1).map { $0 }, tagBytes: 16) != whole, "the length counts")
    }
}
