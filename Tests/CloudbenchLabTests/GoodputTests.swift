import Testing
@testable import CloudbenchLab

@Suite("Goodput units and tbf parameters")
struct GoodputTests {
    @Test("profile rates parse in decimal units", arguments: [
        ("24.8 MB/s", 24_800_000.0), ("590 KB/s", 590_000), ("590 kB/s", 590_000), ("1 GB/s", 1e9),
        ("200 Mbit/s", 25_000_000), ("1 Gbit/s", 125_000_000), ("  48 MB/s ", 48_000_000), ("100B/s", 100),
    ])
    func parses(text: String, bytes: Double) {
        #expect(Goodput(parsing: text)?.bytesPerSecond == bytes)
    }

    @Test("anything else is refused", arguments: ["fast", "10 MB", "-3 MB/s", "0 MB/s", "MB/s", "1e400 MB/s", "10 mb/s"])
    func refuses(text: String) {
        #expect(Goodput(parsing: text) == nil)
    }

    @Test("descriptions read like the reference study")
    func describes() {
        #expect(Goodput(bytesPerSecond: 24_800_000).description == "24.8 MB/s")
        #expect(Goodput(bytesPerSecond: 590_000).description == "590 KB/s")
        #expect(Goodput(bytesPerSecond: 1_234_567).description == "1.235 MB/s")
    }

    @Test("the wire rate pays 1514 bytes per 1448-byte segment")
    func wireRate() {
        #expect(Goodput(bytesPerSecond: 1448).wireBytesPerSecond == 1514)
        #expect(Goodput(bytesPerSecond: 10_000_000).wireBytesPerSecond == 10_455_801)
    }

    @Test("tbf bursts hold full frames even at A0 rates and stay short at fast ones")
    func tokenBucket() {
        let a0 = TokenBucket(goodput: Goodput(parsing: "590 KB/s")!)
        #expect(a0.rateBytesPerSecond == 616_892)
        #expect(a0.burstBytes == 15_140)
        #expect(a0.limitBytes > a0.burstBytes + 1514)
        let a4 = TokenBucket(goodput: Goodput(parsing: "310 MB/s")!)
        // 10 ms of traffic: a burst adds about 0.33 % to a 3-second measurement without warm-up.
        #expect(abs(Double(a4.burstBytes) / Double(a4.rateBytesPerSecond) - 0.010) < 0.0001)
        #expect(a4.tcArguments == ["tbf", "rate", "\(a4.rateBytesPerSecond * 8)bit", "burst", "\(a4.burstBytes)",
                                   "limit", "\(a4.limitBytes)"])
    }
}
