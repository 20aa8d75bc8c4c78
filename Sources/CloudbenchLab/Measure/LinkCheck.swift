import Foundation
import NetNS

/// One measured direction of one pair's link against the goodput the lab emulates.
public struct LinkMeasurement: Sendable {
    public let pair: String
    /// The instance that sent: its egress tbf and the receiver's bridge-side tbf shaped the flow.
    public let from: LabInstance
    public let to: LabInstance
    public let target: Goodput
    public let measured: Goodput
    public let tool: String

    /// measured / target.
    public var ratio: Double { measured.bytesPerSecond / target.bytesPerSecond }

    public func isWithin(_ tolerance: Double) -> Bool { abs(ratio - 1) <= tolerance }
}

/// Measures each pair of a running lab in both directions with a given tool.
public enum LinkCheck {
    /// A burst pair is measured from a full credit (refilled before each direction, as before a
    /// `tcp_bw` cell), against the mean its emulation gives over the tool's window.
    public static func run(layout: LabLayout, tool: GoodputTool, seconds: Double,
                           pairs: [String]? = nil,
                           progress: (LinkMeasurement) -> Void = { _ in }) throws -> [LinkMeasurement] {
        var results: [LinkMeasurement] = []
        for pair in layout.profile.pairs where pairs?.contains(pair.name) ?? true {
            guard let (server, client) = layout.instances(of: pair.name) else { continue }
            // Both directions, so each instance's egress is measured once.
            for (sender, receiver) in [(client, server), (server, client)] {
                var target = pair.goodput(sentBy: sender.role)
                if let burst = pair.burst {
                    for instance in [server, client] {
                        for argv in BurstRefill.commands(for: instance, fabric: layout.fabricNamespace) { try ProcessRunner.check(argv) }
                    }
                    let window = tool.window(seconds: seconds)
                    target = burst.averageGoodput(baseline: pair.goodput, from: window.from, to: window.to)
                }
                let bytesPerSecond = try tool.measure(server: Namespace(existing: receiver.namespace),
                                                      serverAddress: receiver.address,
                                                      client: Namespace(existing: sender.namespace),
                                                      seconds: seconds)
                let m = LinkMeasurement(pair: pair.name, from: sender, to: receiver, target: target,
                                        measured: Goodput(bytesPerSecond: bytesPerSecond), tool: tool.name)
                progress(m)
                results.append(m)
            }
        }
        return results
    }
}
