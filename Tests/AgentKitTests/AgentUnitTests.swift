import Testing
import Glibc
import Syscall
@testable import AgentKit

@Suite("Agent values")
struct AgentUnitTests {
    @Test("percentiles are nearest-rank: every figure is a measured value", arguments: [
        (50.0, 50.0), (90.0, 90.0), (99.0, 99.0), (99.9, 100.0), (100.0, 100.0), (0.5, 1.0),
    ])
    func percentiles(p: Double, expected: Double) throws {
        let sample = (1...100).map(Double.init).shuffled()
        let pct = try #require(Percentiles(sample))
        #expect(pct.value(at: p) == expected)
        #expect(pct.min == 1 && pct.max == 100 && pct.mean == 50.5)
    }

    @Test("no sample, no percentiles")
    func emptyPercentiles() { #expect(Percentiles([]) == nil) }

    @Test("JSON escapes strings, keeps key order, writes missing numbers as null")
    func jsonWriter() {
        let j = JSON.object([("b", .string("a\"b\\c\nd\u{1}")), ("a", .double(.nan)), ("i", .int(3)),
                             ("d", .double(2.5)), ("w", .double(4)), ("l", .array([.bool(true), .null]))])
        #expect(j.serialized() == #"{"b":"a\"b\\c\nd\u0001","a":null,"i":3,"d":2.5,"w":4,"l":[true,null]}"#)
    }

    @Test("the contract's command line parses")
    func parsesContract() throws {
        let inv = try Invocation.parse(["run", "--server", "10.231.10.2:5201", "--token", "t", "--test", "tcp_bw",
                                        "--duration", "2.5", "--warmup", "0", "--streams", "4", "--message-size", "65536",
                                        "--reverse", "--interval", "0.5", "--json"], environment: nil)
        guard case .run(let o) = inv else { Issue.record("not a run"); return }
        #expect(o.server.description == "10.231.10.2:5201")
        #expect(o.request.duration == 2.5 && o.request.warmup == 0 && o.request.streams == 4)
        #expect(o.request.messageSize == 65536 && o.request.reverse && o.request.interval == 0.5 && o.json)
        guard case .serve(let s) = try Invocation.parse(["serve", "--listen", "[::1]:7000", "--deadline", "30"],
                                                        environment: "from-env") else { Issue.record("not serve"); return }
        #expect(s.token == "from-env" && s.deadline == 30 && s.listen.port == 7000)
    }

    @Test("bad command lines say what is wrong", arguments: [
        (["run", "--server", "10.0.0.1", "--token", "t", "--test", "tcp_bw"], "needs a port"),
        (["run", "--server", "10.0.0.1:1", "--test", "tcp_bw"], "missing --token"),
        (["run", "--server", "10.0.0.1:1", "--token", "t", "--test", "ping"], "unknown test 'ping'"),
        (["run", "--server", "host.example:1", "--token", "t", "--test", "tcp_bw"], "not a numeric"),
        (["run", "--server", "10.0.0.1:1", "--token", "t", "--test", "tcp_bw", "--streams", "0"], "--streams"),
        (["serve", "--listen", "10.0.0.1:1", "--token", "t"], "missing --deadline"),
        (["run", "--server", "10.0.0.1:1", "--token", "t", "--test", "tcp_lat", "--bidir"], "--bidir is for tcp_bw only"),
        (["serve", "--listen", "10.0.0.1:1", "--token", "t", "--deadline", "5", "--bogus"], "unknown option '--bogus'"),
    ])
    func badCommandLines(argv: [String], message: String) {
        do {
            _ = try Invocation.parse(argv, environment: nil)
            Issue.record("accepted \(argv)")
        } catch let e as AgentError {
            #expect(e.description.contains(message), "\(e)")
            #expect(e.exitStatus == 2)
        } catch {
            Issue.record("\(error)")
        }
    }

    @Test("a request survives the control line")
    func requestRoundTrip() throws {
        var r = TestRequest(test: .udpBandwidth)
        r.duration = 3; r.warmup = 0.5; r.rate = 12_345_678; r.messageSize = 1000; r.reverse = true
        let words = r.encodedFields().split(separator: " ")
        #expect(try TestRequest(fields: ControlLine.fields(words)) == r)
    }

    @Test("MACs match only when equal, in time that depends only on the lengths")
    func tokens() {
        let abc = Array("abc".utf8)
        #expect(HMAC.equal(abc, abc))
        #expect(!HMAC.equal(Array("abd".utf8), abc))
        #expect(!HMAC.equal(Array("ab".utf8), abc))
        #expect(!HMAC.equal(Array("abcd".utf8), abc))
        #expect(!HMAC.equal([], abc))
    }

    @Test("SHA-256 of the FIPS 180-4 examples")
    func sha256() {
        #expect(HMAC.hex(SHA256.hash(Array("".utf8))) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(HMAC.hex(SHA256.hash(Array("abc".utf8))) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        let two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
        #expect(HMAC.hex(SHA256.hash(Array(two.utf8))) == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        // Fed in pieces that straddle blocks: the same digest.
        var pieces = SHA256()
        for _ in 0..<1000 { pieces.update(Array(repeating: UInt8(ascii: "a"), count: 1000)) }
        #expect(HMAC.hex(pieces.finish()) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test("HMAC-SHA256 of the RFC 4231 test cases 1, 2, 3, 6 and 7")
    func hmac() {
        func hex(_ s: String) -> [UInt8] {
            var out: [UInt8] = []
            var i = s.startIndex
            while i < s.endIndex { let j = s.index(i, offsetBy: 2); out.append(UInt8(s[i..<j], radix: 16)!); i = j }
            return out
        }
        let cases: [([UInt8], [UInt8], String)] = [
            (Array(repeating: 0x0b, count: 20), Array("Hi There".utf8),
             "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
            (Array("Jefe".utf8), Array("what do ya want for nothing?".utf8),
             "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
            (Array(repeating: 0xaa, count: 20), Array(repeating: 0xdd, count: 50),
             "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"),
            (Array(repeating: 0xaa, count: 131), Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8),
             "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
            (Array(repeating: 0xaa, count: 131),
             Array("This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.".utf8),
             "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"),
        ]
        for (key, message, expected) in cases {
            #expect(HMAC.sha256(key: key, message: message) == hex(expected))
        }
    }

    @Test("each sequence number counts once; late ones are reordered, repeats are duplicates")
    func sequences() {
        var t = SequenceTracker()
        for seq: UInt64 in [1, 2, 4, 3, 3, 5, 1, 70, 65] { t.note(seq) }
        #expect(t.note(0) == .invalid)
        #expect(t.unique == 7 && t.duplicates == 2 && t.reordered == 2)
    }

    @Test("udp_bw: loss is still counted when every datagram arrives twice, and reordering is reported apart")
    func injectedDuplicates() throws {
        var bound: Socket?
        for _ in 0..<20 where bound == nil {
            bound = try? Socket.bindUDP(try SocketAddress(parsing: "127.0.0.1:\(Int.random(in: 40000...60000))"))
        }
        let udp = try #require(bound)
        let port = try #require(udp.localAddress())
        var pair: [Int32] = [0, 0]
        #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair) == 0)
        let control = Socket(fd: pair[0]), peer = Socket(fd: pair[1])
        let sender = try Socket.make(for: port, type: Int32(SOCK_DGRAM.rawValue))
        try sender.connect(port)
        let tag = UDPBandwidthTest.tag("0123456789abcdef")
        // 1…60 without every tenth (6 lost), 12 before 11, each datagram sent twice.
        var order = (1...60).filter { $0 % 10 != 0 }.map(UInt64.init)
        order.swapAt(10, 9)
        for seq in order {
            let datagram: [UInt64] = [tag, seq, 0, 0]
            for _ in 0..<2 { _ = datagram.withUnsafeBytes { send(sender.fd, $0.baseAddress!, $0.count, 0) } }
        }
        try peer.writeAll("SENT sent_datagrams=60 sent_window_bytes=0\n")
        var request = TestRequest(test: .udpBandwidth)
        request.warmup = 0; request.duration = 0.1
        let fields = Dictionary(uniqueKeysWithValues: try UDPBandwidthTest.receive(udp, control: control, request: request,
                                                                                    tag: tag, start: Clock.now()))
        #expect(fields["received_datagrams"] == "54", "\(fields)")
        #expect(fields["duplicates"] == "54" && fields["reordered"] == "1", "\(fields)")
    }

    @Test("--token-stdin takes the token from standard input, and only from there")
    func tokenStdin() throws {
        guard case .serve(let s) = try Invocation.parse(["serve", "--listen", "10.0.0.1:7000", "--deadline", "5", "--token-stdin"],
                                                        environment: "from-env", standardInput: { "from-stdin" }) else {
            Issue.record("not serve"); return
        }
        #expect(s.token == "from-stdin")
        #expect(throws: AgentError.self) {
            try Invocation.parse(["serve", "--listen", "10.0.0.1:7000", "--deadline", "5", "--token-stdin"],
                                 environment: "from-env", standardInput: { nil })
        }
        #expect(throws: AgentError.self) {
            try Invocation.parse(["serve", "--listen", "10.0.0.1:7000", "--deadline", "5", "--token-stdin", "--token", "x"],
                                 environment: nil, standardInput: { "y" })
        }
    }

    @Test("a test key: made from the run key, checked against it, good for one test")
    func testKeys() throws {
        let key = TestKey.fresh(runKey: "run-key")
        #expect(key.testID.count == 32)
        #expect(!key.wire.contains("run-key"))
        let parsed = try #require(TestKey(wire: Substring(key.wire)))
        #expect(parsed == key && parsed.isValid(for: "run-key") && !parsed.isValid(for: "other"))
        #expect(TestKey.fresh(runKey: "run-key") != key)
        for bad in ["run-key", "abc:def", "\(key.testID):\(key.mac.uppercased())", "\(key.wire):x", ":\(key.mac)"] {
            #expect(TestKey(wire: Substring(bad)) == nil, "\(bad)")
        }
        var spent = SpentKeys()
        #expect(spent.spend(parsed, runKey: "other") == .wrong)
        #expect(spent.spend(nil, runKey: "run-key") == .wrong)
        #expect(spent.spend(parsed, runKey: "run-key") == .accepted)
        #expect(spent.spend(parsed, runKey: "run-key") == .spent)
        #expect(spent.spend(TestKey.fresh(runKey: "run-key"), runKey: "run-key") == .accepted)
    }

    @Test("the window puts each byte in the interval of its arrival")
    func window() {
        let w = Window(start: 100, warmup: 2, duration: 3, interval: 1)
        #expect(w.bucket(101.9) == nil)
        #expect(w.bucket(102) == 0)
        #expect(w.bucket(103.5) == 1)
        #expect(w.bucket(104.999) == 2)
        #expect(w.bucket(105) == nil)
    }
}

/// The pieces that make a low rate's figure exact: the span, the settling rule, the sizes.
@Suite("Agent low-rate accuracy")
struct AgentLowRateTests {
    @Test("the rate is counted over the exact span from the first read to the last")
    func spanOfReads() {
        // 0.5 MB/s in 1448-byte segments, one read per segment, the window opening mid-stream:
        // 100,000 bytes came before the first read of the window.
        var span = ByteSpan()
        let perSegment = 1448.0 / 500_000
        var arrived = 100_000
        for i in 0..<1000 {
            arrived += 1448
            span.mark(arrived: arrived, at: 10 + Double(i) * perSegment)
        }
        #expect(span.bytes == 999 * 1448)
        #expect(abs(span.seconds - 999 * perSegment) < 1e-9)
        #expect(abs(span.bytesPerSecond! - 500_000) < 1e-6)
        // The same bytes over a nominal 2 s window: off by where the window's edges fall.
        #expect(abs(Double(span.bytes) / 2 - 500_000) > 10_000)
    }

    @Test("a late wake-up that fills the read buffer does not change the rate")
    func spanOfUnevenReads() {
        var span = ByteSpan()
        span.mark(arrived: 100_000, at: 5)
        span.mark(arrived: 104_096, at: 5.008192)   // 4096 bytes at 0.5 MB/s
        // Descheduled for 90 ms: the read returns 4096 bytes (its bound) and 36,864 more are
        // queued (FIONREAD); both had arrived by the read's time.
        span.mark(arrived: 104_096 + 4096 + 36_864, at: 5.090112)
        #expect(span.bytes == 45_056)
        #expect(abs(span.bytesPerSecond! - 500_000) < 1e-3)
        #expect(ByteSpan().bytesPerSecond == nil)
        var one = ByteSpan()
        one.mark(arrived: 1000, at: 1)
        #expect(one.bytesPerSecond == nil)
    }

    @Test("a mark made late (the thread lost the processor) does not move either end")
    func spanIgnoresLateMarks() {
        // 0.5 MB/s, a read every 2 ms, window [10, 12). The first read of the window, or the
        // last, reads the clock 40 ms late: a plain first-to-last span would be 2 % off.
        let rate = 500_000.0
        for lateRead in [0, 999] {
            var span = ByteSpan(opened: 10, end: 12, rate: rate)
            var plain = ByteSpan()
            for i in 0..<1000 {
                let t = 10 + Double(i) * 0.002
                let late = i == lateRead ? 0.04 : 0
                let arrived = Int(rate * (t - 9))
                span.mark(arrived: arrived, at: t + late)
                plain.mark(arrived: arrived, at: t + late)
            }
            #expect(abs(span.bytesPerSecond! / rate - 1) < 0.001, "\(span.bytesPerSecond!)")
            #expect(abs(plain.bytesPerSecond! / rate - 1) > 0.015)
            #expect(span.first! >= 10 && span.first! < 10 + ByteSpan.edge)
            #expect(span.last! >= 12 - ByteSpan.edge && span.last! < 12.05)
        }
    }

    @Test("parallel streams add their rates, each over its own span")
    func spanAggregate() {
        var a = ByteSpan(), b = ByteSpan()
        a.mark(arrived: 0, at: 1.0); a.mark(arrived: 2000, at: 3.0)     // 1000 B/s
        b.mark(arrived: 500, at: 1.1); b.mark(arrived: 6500, at: 3.1)   // 3000 B/s
        #expect(ByteSpan.aggregateRate([a, b, ByteSpan()]) == 4000)
        #expect(ByteSpan.aggregateRate([ByteSpan()]) == nil)
        #expect(TCPStreams.measured([a, b]) == 2.1)
    }

    @Test("the rate settles only when the last slices agree")
    func settling() {
        var s = RateSettling()
        // Slow start: doubling every slice.
        var bytes = 0, t = 0.0
        for i in 0..<6 {
            bytes += 1000 << i
            t += 0.25
            s.offer(bytes: bytes, at: t)
            #expect(s.settledRate == nil)
        }
        // Then 0.5 MB/s, 1 % jitter: settled after three steady slices.
        for i in 0..<3 {
            bytes += 125_000 + (i == 1 ? 1250 : 0)
            t += 0.25
            s.offer(bytes: bytes, at: t)
        }
        #expect(s.settledRate.map { abs($0 / 500_000 - 1) < 0.01 } == true)
        // A retransmission timeout halves one slice: no longer settled.
        bytes += 62_500
        t += 0.25
        s.offer(bytes: bytes, at: t)
        #expect(s.settledRate == nil)
        // Samples closer than a slice are ignored.
        var q = RateSettling()
        for i in 0..<120 { q.offer(bytes: i * 1000, at: Double(i) * 0.01) }
        #expect(q.recentRate.map { abs($0 / 100_000 - 1) < 0.01 } == true)
        #expect(q.settledRate != nil)
    }

    @Test("writes are about 1 % of a second's bytes at low rates, the request's size at high ones")
    func adaptiveWriteSize() {
        let largest = 128 * 1024
        // The issue's rates: 4.72, 12 and 100 Mbit/s on the wire, as goodput.
        for mbit in [4.72, 12, 100] {
            let goodput = mbit * 1e6 / 8 * 1448 / 1514
            let size = IOSize.write(forRate: goodput, largest: largest)
            #expect(Double(size) <= goodput / 100, "\(mbit) Mbit/s: \(size)")
            #expect(Double(size) > goodput / 200, "\(mbit) Mbit/s: \(size)")
            #expect(size & (size - 1) == 0)
        }
        #expect(IOSize.write(forRate: 564_300, largest: largest) == 4096)
        #expect(IOSize.write(forRate: 2e9, largest: largest) == largest)
        #expect(IOSize.write(forRate: nil, largest: largest) == largest)
        #expect(IOSize.write(forRate: 10_000, largest: largest) == 1024)   // never below 1 KiB
        #expect(IOSize.write(forRate: 10_000, largest: 512) == 512)        // nor above the request
        #expect(IOSize.read(forRate: 564_300) == 4096)
        #expect(IOSize.read(forRate: 143e6) == 1 << 20)
        #expect(IOSize.read(forRate: nil) == 1 << 20)
    }

    @Test("warm-up waits for the rate at most 3 to 10 s more than --warmup")
    func warmupLimit() {
        #expect(Window(start: 0, warmup: 0, duration: 5, interval: 1).warmupLimit == 0)
        #expect(Window(start: 0, warmup: 0.5, duration: 5, interval: 1).warmupLimit == 3.5)
        #expect(Window(start: 0, warmup: 2, duration: 5, interval: 1).warmupLimit == 5)
        #expect(Window(start: 0, warmup: 5, duration: 5, interval: 1).warmupLimit == 10)
        #expect(Window(start: 0, warmup: 60, duration: 5, interval: 1).warmupLimit == 70)
    }
}
