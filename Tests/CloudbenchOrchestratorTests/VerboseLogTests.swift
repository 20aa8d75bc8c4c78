@testable import CloudbenchCore
@testable import CloudbenchOrchestrator
import CloudbenchProcess
import Foundation
import Logging
import Testing

/// Collects log lines in memory.
final class LogCapture: @unchecked Sendable {
    let lines = Locked<[(message: String, metadata: Logger.Metadata)]>([])

    func logger() -> Logger {
        var logger = Logger(label: "test") { _ in CaptureHandler(capture: self) }
        logger.logLevel = .debug
        return logger
    }

    struct CaptureHandler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .debug
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String,
                 file: String, function: String, line: UInt) {
            capture.lines.withLock { $0.append((message.description, metadata ?? [:])) }
        }
    }
}

@Suite("compare --verbose")
struct VerboseLogTests {
    @Test("every remote command is logged once, with host, duration and exit status, and no token")
    func eachCommandOnce() async throws {
        let dir = NSTemporaryDirectory() + "cblog-\(getpid())-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let agent = dir + "/agent"
        try Data("#!/bin/sh\n".utf8).write(to: URL(fileURLWithPath: agent))
        let inventory = fakeInventory(pairs: 2, repetitions: 2)
        let connector = FakeConnector([:])
        let capture = LogCapture()
        var options = CompareOptions()
        options.resultsDirectory = dir
        let run = CompareRun(inventory: inventory, catalog: emptyCatalog, connector: connector,
                             agents: AgentBinaries(byArch: ["x86_64": agent]), options: options, logger: capture.logger())
        let summary = try await run.run(state: RunState(), progress: LogProgress(totalCells: 4, quiet: true))
        #expect(summary.records.count == 4 && summary.records.allSatisfy { $0.status == .ok })

        let sent = connector.shells.flatMap(\.ran)
        let logged = capture.lines.value.filter { $0.metadata["result"] != nil }
        #expect(sent.count == logged.count, "\(sent.count) commands sent, \(logged.count) logged")
        #expect(sent.map(Redaction.redact).sorted() == logged.map(\.message).sorted())
        for line in logged {
            #expect(line.metadata["host"] != nil && line.metadata["ms"] != nil)
        }
        #expect(logged.contains { $0.metadata["result"]?.description == "exit 0" })
        // The tokens reach the hosts on standard input only: in no command, nowhere in the log.
        let fed = connector.shells.flatMap(\.fedInput)
        let tokens = Set(fed.map { $0.trimmingCharacters(in: .newlines) })
        // One run key per server host (its one agent server), to that server once and to each of its clients.
        #expect(fed.count == 6 && tokens.count == 2, "one run key per server host, to its server and its clients")
        #expect(tokens.allSatisfy { $0.range(of: "^[0-9a-f]{64}$", options: .regularExpression) != nil })
        let everything = capture.lines.value.map { "\($0.message) \($0.metadata)" }.joined(separator: "\n")
        for token in tokens {
            #expect(!everything.contains(token))
            #expect(!sent.contains { $0.contains(token) })
        }
        #expect(!everything.contains("CLOUDBENCH_AGENT_TOKEN"))
    }

    @Test("redaction hides the token in the environment and on a command line, and private keys")
    func redaction() {
        #expect(Redaction.redact("CLOUDBENCH_AGENT_TOKEN=abc123 nohup /a serve") == "CLOUDBENCH_AGENT_TOKEN=<redacted> nohup /a serve")
        #expect(Redaction.redact("/a run --token abc --test x; b --token=def") == "/a run --token <redacted> --test x; b --token=<redacted>")
        #expect(Redaction.redact("k -----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY----- z")
                == "k -----BEGIN OPENSSH PRIVATE KEY-----<redacted> z")
    }
}
