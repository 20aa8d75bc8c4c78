#if canImport(Glibc)
import Glibc
#endif
import AgentKit
import CAgentCompat

/// Writes `text` to stdout in full (the JSON document is one write).
func emit(_ text: String) {
    var t = text + "\n"
    t.withUTF8 { p in
        var off = 0
        while off < p.count {
            let n = write(1, p.baseAddress! + off, p.count - off)
            if n <= 0 { if errno == EINTR { continue }; return }
            off += n
        }
    }
}

// Referenced so the glibc compatibility object is always linked in.
_ = cagent_compat_linked()

do {
    // The user-space UDP overlay of compare's `udp` path (Sources/AgentKit/Tunnel).
    if CommandLine.arguments.dropFirst().first == "tunnel" {
        try TunnelCommand.run(Array(CommandLine.arguments.dropFirst(2)))
        exit(0)
    }
    // The reachability preflight's two ends (Sources/AgentKit/Reach).
    if CommandLine.arguments.dropFirst().first == "reach" {
        try ReachCommand.probe(Array(CommandLine.arguments.dropFirst(2)), emit: emit)
        exit(0)
    }
    if CommandLine.arguments.dropFirst().first == "reach-answer" {
        try ReachCommand.answer(Array(CommandLine.arguments.dropFirst(2)), emit: emit)
        exit(0)
    }
    // The relay on a `through` group's middle host (Sources/AgentKit/Relay).
    if CommandLine.arguments.dropFirst().first == "relay" {
        try Relay.run(try Relay.parse(Array(CommandLine.arguments.dropFirst(2))))
    }
    // Another client's flows of a pooled group step (Sources/AgentKit/PoolSender.swift).
    if CommandLine.arguments.dropFirst().first == "send" {
        emit(try PoolSender.run(try PoolSender.parse(Array(CommandLine.arguments.dropFirst(2)))).serialized())
        exit(0)
    }
    switch try Invocation.parse(Array(CommandLine.arguments.dropFirst())) {
    case .version:
        emit("cloudbench-agent \(AgentVersion.version) (build \(AgentVersion.buildID()))")
    case .help:
        emit(Invocation.usage)
    case .conf(let json):
        let facts = HostFacts.collect()
        emit(json ? facts.serialized() : HumanReport.render(facts))
    case .serve(let options):
        try Server(options).run()
    case .run(let options):
        if let lease = options.lease { Lease.keepRenewed(lease) }
        let result = try Client.run(options)
        // Renewed as it ends too: the orchestrator counts a finished cell as a renewal of both hosts.
        if let lease = options.lease { Lease.renew(lease) }
        emit(options.json ? result.serialized() : HumanReport.render(result))
    }
    exit(0)
} catch let error as AgentError {
    // One line naming the reason; the usage text only on request (--help).
    if case .usage = error {
        printError("cloudbench-agent: \(error) (see cloudbench-agent --help)")
    } else {
        printError("cloudbench-agent: \(error)")
    }
    exit(error.exitStatus)
} catch {
    printError("cloudbench-agent: \(error)")
    exit(1)
}
