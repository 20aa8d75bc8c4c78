import Testing
@testable import AgentKit

@Suite("Tunnel datagram authentication")
struct TunnelAuthenticatorTests {
    /// A datagram for `packet`, sealed by `a` with `counter`.
    func seal(_ a: TunnelAuthenticator, _ packet: [UInt8], counter: UInt64) -> [UInt8] {
        var d = [UInt8](repeating: 0, count: packet.count + TunnelAuthenticator.overhead)
        d.replaceSubrange(8..<(8 + packet.count), with: packet)
        let n = d.withUnsafeMutableBytes { a.seal($0.baseAddress!, packetLength: packet.count, counter: counter) }
        #expect(n == d.count)
        return d
    }

    func open(_ a: TunnelAuthenticator, _ d: [UInt8]) -> UInt64? {
        var scratch = [UInt8](repeating: 0, count: TunnelAuthenticator.tagBytes)
        return d.withUnsafeBytes { p in scratch.withUnsafeMutableBytes { a.open(p.baseAddress!, length: d.count, scratch: $0.baseAddress!) } }
    }

    @Test("a sealed datagram opens with its direction's key only, and any changed byte fails")
    func sealAndOpen() {
        let key = "path-key-0123456789abcdef"
        let sender = TunnelAuthenticator(pathKey: key, from: "10.0.0.1:8285")
        let receiver = TunnelAuthenticator(pathKey: key, from: "10.0.0.1:8285")
        let packet = Array("an IP packet, more or less".utf8)
        let d = seal(sender, packet, counter: 42)
        #expect(open(receiver, d) == 42)
        // The format docs/security.md gives: counter | packet | SipHash-2-4-128 under the direction's key.
        let directionKey = HMAC.sha256(key: Array(key.utf8), message: Array("cloudbench-agent/1 tunnel from 10.0.0.1:8285".utf8))
        #expect(Array(d.prefix(8)) == [0, 0, 0, 0, 0, 0, 0, 42] && Array(d[8..<(8 + packet.count)]) == packet)
        #expect(Array(d.suffix(16)) == SipHash(key: Array(directionKey.prefix(16))).tag(Array(d.dropLast(16)), tagBytes: 16))
        for i in [0, 7, 8, d.count - 17, d.count - 1] {
            var changed = d
            changed[i] ^= 1
            #expect(open(receiver, changed) == nil, "byte \(i) changed")
        }
        #expect(open(TunnelAuthenticator(pathKey: key, from: "10.0.0.2:8285"), d) == nil, "the other direction's key")
        #expect(open(TunnelAuthenticator(pathKey: "another-path-key-0123", from: "10.0.0.1:8285"), d) == nil)
        #expect(open(receiver, Array(d.prefix(TunnelAuthenticator.overhead - 1))) == nil, "too short")
    }

    @Test("the replay window accepts each counter once, late ones inside it, none older")
    func replayWindow() {
        var w = ReplayWindow()
        let size = UInt64(ReplayWindow.size)
        // Each counter in turn, and whether the window accepts it.
        let steps: [(UInt64, Bool)] = [
            (0, false), (1, true), (3, true), (2, true), (2, false), (3, false),
            (10_000, true),
            (10_000 - size, false),  // older than the window
            (10_000 - size + 1, true), (10_000 - size + 1, false),
            // A slot reused after the window moves on is free again.
            (10_000 + size, true), (10_000 + size - 1, true), (10_000, false),
        ]
        for (counter, expected) in steps {
            let accepted = w.accept(counter)
            #expect(accepted == expected, "counter \(counter)")
        }
    }

    @Test("the tunnel refuses to start without a path key on standard input")
    func keyRequired() throws {
        let args = ["--device", "cbtun0", "--local", "10.0.0.1:8285", "--peer", "10.0.0.2:8285",
                    "--address", "10.254.253.1/30", "--mtu", "1448", "--deadline", "60"]
        #expect(throws: AgentError.self) { try TunnelCommand.parse(args, standardInput: { nil }) }
        #expect(throws: AgentError.self) { try TunnelCommand.parse(args, standardInput: { "short" }) }
        let (config, _) = try TunnelCommand.parse(args, standardInput: { "0123456789abcdef0123" })
        #expect(config.pathKey == "0123456789abcdef0123" && config.mtu == 1448)
    }
}
