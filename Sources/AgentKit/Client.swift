#if canImport(Glibc)
import Glibc
#endif

/// `cloudbench-agent run`: connects, presents the token and runs one test against a server.
public enum Client {
    public static func run(_ o: RunOptions) throws -> JSON {
        if o.rateSearch && o.request.test.isUDP { return try UDPRateSearch.run(o) }
        if !o.peers.isEmpty { return try GroupBandwidthTest.run(o) }
        signal(SIGPIPE, SIG_IGN)
        let control = try Socket.connect(to: o.server, timeout: o.connectTimeout)
        try control.setTimeouts(receive: nil, send: 10)
        // A key for this test only, derived from the run key, which never leaves this host.
        let key = TestKey.fresh(runKey: o.token)
        try control.writeAll("\(TestRequest.protocolTag) \(key.wire) \(o.request.encodedFields())\n")
        guard let reply = try control.readLine(timeout: 10) else {
            throw AgentError.failed("server at \(o.server) did not answer within 10 s (busy with another client, or not a cloudbench agent?)")
        }
        if reply == "ERR token" { throw AgentError.failed("server refused the token") }
        if reply.hasPrefix("ERR busy") { throw AgentError.failed("server at \(o.server) is busy with another test") }
        if reply.hasPrefix("ERR ") { throw AgentError.failed("server refused the test: \(reply.dropFirst(4))") }
        let words = reply.split(separator: " ")
        guard words.count == 2, words[0] == "OK" else {
            throw AgentError.failed("server at \(o.server) gave an answer that is not cloudbench-agent/1")
        }
        let session = ClientSession(control: control, server: o.server, request: o.request,
                                    sessionID: String(words[1]), connectTimeout: o.connectTimeout)
        let counters = HostCounters.applies(to: o.request.test) ? HostCounters.sample(toward: o.server) : nil
        // On a `udp` path (every test): the tunnel on this host, sampled beside the host's counters.
        let tunnel = o.tunnelStats.map { TunnelCounters.sample(statsFile: $0) }
        var result: JSON
        switch o.request.test {
        case .tcpBandwidth: result = try TCPBandwidthTest.run(session)
        case .tcpLatency: result = try TCPLatencyTest.run(session)
        case .tcpConnectRequestResponse: result = try TCPConnectRateTest.run(session)
        case .udpBandwidth: result = try UDPBandwidthTest.run(session)
        case .udpPackets: result = try UDPPacketRateTest.run(session)
        case .http: result = try HTTPTest.run(session)
        }
        // The server's `HOST` line follows its result when either is sampled on this test.
        guard counters != nil || tunnel != nil else { return result }
        let mine = counters.map { HostWindow(from: $0, to: $0.again()) }
        let myTunnel = tunnel.map { TunnelWindow.between($0, TunnelCounters.sample(statsFile: o.tunnelStats!)) }
        let server = serverFields(control)
        if let mine {
            let theirs = server.flatMap { HostWindow(fields: $0) }
            let rate = result.receivedBytesPerSecond
            result = result.addingCPU(side: "client", mine.cpuFields(payloadBytesPerSecond: rate))
                .addingCPU(side: "server", theirs?.cpuFields(payloadBytesPerSecond: rate)
                           ?? [("host_cpu_absent", .string(ProcStat.Absent.notSent.sentence))])
            if let nic = mine.nic {
                result = result.addingNIC(side: "client", NICWindow.json(nic))
                    .addingNIC(side: "server", NICWindow.json(theirs?.nic ?? .failure(.notSent)))
            }
        }
        if let myTunnel {
            result = result.addingTunnel(client: myTunnel, server: server.flatMap { TunnelWindow.parse(fields: $0) } ?? .failure(.notSent))
        }
        return result
    }

    /// The fields of the server's `HOST` line, sent right after its result; nil when none comes within 5 s.
    static func serverFields(_ control: Socket) -> [String: String]? {
        guard let line = try? control.readLine(maxBytes: 8192, timeout: 5) else { return nil }
        let words = line.split(separator: " ")
        guard words.first == "HOST" else { return nil }
        return ControlLine.fields(words.dropFirst())
    }
}
