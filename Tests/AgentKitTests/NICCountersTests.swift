import Foundation
import Testing
@testable import AgentKit

/// `ethtool -S` on recorded outputs of four drivers, the sysfs fallback, the device toward a
/// peer, and a NIC window's trip over the `HOST` line into `detail.nic`.
@Suite("NIC counters")
struct NICCountersTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path

    static func fixture(_ name: String) throws -> String {
        try String(contentsOfFile: "\(fixtures)/\(name)", encoding: .utf8)
    }

    static func kept(_ driver: String) throws -> [String] {
        let all = try #require(EthtoolStats.parse(fixture("ethtool-S-\(driver).txt")))
        return EthtoolStats.kept(all).map(\.name)
    }

    @Test func enaKeepsItsFiveAllowanceCounters() throws {
        let all = try #require(EthtoolStats.parse(Self.fixture("ethtool-S-ena.txt")))
        #expect(all.count == 86)
        #expect(all.first { $0.name == "bw_out_allowance_exceeded" }?.value == 1204)
        #expect(try Self.kept("ena") == ["bw_in_allowance_exceeded", "bw_out_allowance_exceeded", "pps_allowance_exceeded",
                                         "conntrack_allowance_exceeded", "linklocal_allowance_exceeded"])
        #expect(EthtoolStats.driver(try Self.fixture("ethtool-i-ena.txt")) == "ena")
    }

    @Test func driversWithoutAllowancesKeepDeviceWideLosses() throws {
        // virtio_net counts drops per queue only: the kernel's own counters stand beside it (see `read`).
        #expect(try Self.kept("virtio_net") == [])
        #expect(try Self.kept("hv_netvsc") == ["tx_no_memory", "rx_no_memory", "vf_tx_dropped"])
        #expect(try Self.kept("mlx5") == ["rx_xdp_drop", "tx_cqe_err", "rx_wqe_err", "rx_buff_alloc_err", "rx_out_of_buffer",
                                          "rx_discards_phy", "tx_discards_phy", "tx_errors_phy"])
    }

    @Test func unknownShapesAreNotCounters() throws {
        #expect(EthtoolStats.parse(try Self.fixture("ethtool-S-unknown.txt")) == nil)
        #expect(EthtoolStats.parse("") == nil)
        #expect(EthtoolStats.parse("NIC statistics:\n") == nil)
        #expect(EthtoolStats.parse("NIC statistics:\n     rx_dropped: -1\n") == nil)
        #expect(EthtoolStats.parse("NIC statistics:\n     rx_dropped: 99999999999999999999999\n") == nil)
        #expect(EthtoolStats.driver("version: 1\n") == nil)
        // A name with a space or `=` would break the HOST line: left out, never sent.
        let odd = try #require(EthtoolStats.parse("NIC statistics:\n     rx drops: 1\n     a=b_dropped: 2\n     tx_dropped: 3\n"))
        #expect(EthtoolStats.kept(odd).map(\.name) == ["tx_dropped"])
    }

    /// A scratch directory with a stand-in `ethtool` printing `stats.txt` and a sysfs tree for `eth9`.
    struct Scratch {
        let dir: String
        init() throws {
            dir = NSTemporaryDirectory() + "nic-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            let fm = FileManager.default
            try fm.createDirectory(atPath: "\(dir)/sys/eth9/statistics", withIntermediateDirectories: true)
            try "#!/bin/sh\ncase \"$1\" in -S) cat \"\(dir)/stats.txt\" ;; -i) echo 'driver: ena' ;; *) exit 1 ;; esac\n"
                .write(toFile: "\(dir)/ethtool", atomically: true, encoding: .utf8)
            try fm.setAttributes([.posixPermissions: 0o755], ofItemAtPath: "\(dir)/ethtool")
            try sysfs(rxDropped: 5)
        }
        func stats(_ text: String) throws { try text.write(toFile: "\(dir)/stats.txt", atomically: true, encoding: .utf8) }
        func sysfs(rxDropped: Int) throws {
            try "\(rxDropped)\n".write(toFile: "\(dir)/sys/eth9/statistics/rx_dropped", atomically: true, encoding: .utf8)
            try "0\n".write(toFile: "\(dir)/sys/eth9/statistics/tx_dropped", atomically: true, encoding: .utf8)
        }
        func read(ethtool: String? = nil, driver: String? = nil) -> Result<NICCounters, NICCounters.Absent> {
            NICCounters.read(device: "eth9", driver: driver, sysfs: "\(dir)/sys", ethtool: ethtool ?? "\(dir)/ethtool")
        }
        func remove() { try? FileManager.default.removeItem(atPath: dir) }
    }

    @Test func windowOfAStandInEthtool() throws {
        let s = try Scratch()
        defer { s.remove() }
        let ena = try Self.fixture("ethtool-S-ena.txt")
        try s.stats(ena)
        let before = s.read()
        let b = try before.get()
        #expect(b.driver == "ena" && b.source == .ethtool && b.device == "eth9")
        #expect(b.counters.map(\.name).suffix(2) == ["rx_dropped", "tx_dropped"])
        try s.stats(ena.replacingOccurrences(of: "bw_out_allowance_exceeded: 1204", with: "bw_out_allowance_exceeded: 2408"))
        try s.sysfs(rxDropped: 9)
        let after = s.read(driver: b.driver)
        let w = try NICWindow.between(before, after).get()
        #expect(w.deltas.first { $0.name == "bw_out_allowance_exceeded" }?.value == 1204)
        #expect(w.deltas.first { $0.name == "rx_dropped" }?.value == 4)
        #expect(w.deltas.first { $0.name == "pps_allowance_exceeded" }?.value == 0)
        // Backwards (a driver reset): no window, a reason.
        #expect(NICWindow.between(after, before).map { _ in 0 } == .failure(.inconsistent))
    }

    @Test func sysfsWhereEthtoolIsMissingAndAReasonForAnUnknownShape() throws {
        let s = try Scratch()
        defer { s.remove() }
        let c = try s.read(ethtool: "\(s.dir)/no-such-ethtool").get()
        #expect(c.source == .sysfs && c.driver == "unknown")
        #expect(c.counters == [.init("rx_dropped", 5), .init("tx_dropped", 0)])
        try s.stats(try Self.fixture("ethtool-S-unknown.txt"))
        #expect(s.read().map { _ in 0 } == .failure(.unknownShape))
        #expect(NICCounters.read(device: "bad name", driver: nil).map { _ in 0 } == .failure(.noDevice))
    }

    @Test func loopbackCarriesTrafficToItself() throws {
        #expect(try CarrierDevice.toward(SocketAddress(host: "127.0.0.1", port: 9)).get() == "lo")
        #expect(try CarrierDevice.toward(SocketAddress(host: "::1", port: 9)).get() == "lo")
    }

    @Test func hostLineAndDetailCarryTheWindow() throws {
        let w = NICWindow(device: "eth0", driver: "ena", source: .ethtool,
                          deltas: [.init("bw_out_allowance_exceeded", 1204), .init("rx_dropped", 0)])
        let window = HostWindow(seconds: 2, cpu: .failure(.missing), ticksPerSecond: 100, agent: CPUTime(user: 0, system: 0), nic: .success(w))
        let line = ControlLine.encode("HOST", window.fields())
        let back = try #require(HostWindow(fields: ControlLine.fields(line.dropLast().split(separator: " ").dropFirst())))
        let nic = try #require(back.nic).get()
        #expect(nic.device == "eth0" && nic.driver == "ena")
        #expect(Set(nic.deltas.map(\.name)) == ["bw_out_allowance_exceeded", "rx_dropped"])
        #expect(nic.deltas.first { $0.name == "bw_out_allowance_exceeded" }?.value == 1204)

        let detail = JSON.object([("test", .string("udp_pps"))])
            .addingNIC(side: "client", NICWindow.json(.success(w)))
            .addingNIC(side: "server", NICWindow.json(.failure(.notSent)))
        #expect(detail.serialized() == #"{"test":"udp_pps","nic":{"client":{"driver":"ena","device":"eth0","source":"ethtool","deltas":{"bw_out_allowance_exceeded":1204,"rx_dropped":0}},"server":{"absent":"the agent on this host sent no NIC counters"}}}"#)

        // An older peer sends no NIC fields; a peer's nonsense is a reason, not a window.
        #expect(HostWindow(fields: ["secs": "1", "hz": "100", "agent_user": "0", "agent_sys": "0"])?.nic == nil)
        let bad = HostWindow(fields: ["secs": "1", "hz": "100", "agent_user": "0", "agent_sys": "0",
                                      "nic_device": "eth0", "nic_driver": "ena", "nic_source": "ethtool", "nic.rx_dropped": "-3"])
        #expect(bad?.nic.map { $0.map { _ in 0 } } == .failure(.inconsistent))
        #expect(HostWindow(fields: ["secs": "1", "hz": "100", "agent_user": "0", "agent_sys": "0", "nic_absent": "no_route"])?.nic
            .map { $0.map { _ in 0 } } == .failure(.noRoute))
    }

    @Test func aRateSearchSumsEveryProbe() throws {
        func probe(_ pps: Int, server: JSON? = nil) -> JSON {
            let w = NICWindow(device: "ens5", driver: "ena", source: .ethtool,
                              deltas: [.init("pps_allowance_exceeded", UInt64(pps)), .init("rx_dropped", 1)])
            return JSON.object([]).addingNIC(side: "client", NICWindow.json(.success(w)))
                .addingNIC(side: "server", server ?? NICWindow.json(.success(w)))
        }
        let summed = try #require(NICSum.over([probe(0)["nic"], probe(120)["nic"], probe(30)["nic"]]))
        #expect(summed["client"]?["deltas"]?["pps_allowance_exceeded"] == .int(150))
        #expect(summed["server"]?["deltas"]?["rx_dropped"] == .int(3))
        #expect(summed["client"]?["device"] == .string("ens5"))
        // One probe's server without counters: that side says why; the client's still add up.
        let mixed = try #require(NICSum.over([probe(5)["nic"], probe(7, server: NICWindow.json(.failure(.unknownShape)))["nic"]]))
        #expect(mixed["server"]?["absent"] == .string(NICCounters.Absent.unknownShape.sentence))
        #expect(mixed["client"]?["deltas"]?["pps_allowance_exceeded"] == .int(12))
        #expect(NICSum.over([nil, nil]) == nil)
    }
}
