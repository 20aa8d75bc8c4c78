import ArgumentParser
import Foundation
import Logging

/// `--verbose`, shared by the commands that talk to hosts: every remote command on stderr with
/// its host, duration and exit status, secrets redacted. `CLOUDBENCH_LOG=debug` does the same.
struct LogOptions: ParsableArguments {
    @Flag(name: [.short, .long], help: "Log every remote command (host, duration, exit status; secrets redacted) to stderr.")
    var verbose = false

    /// The logger the modules are handed; stderr lines are kept whole (`StreamLogHandler`).
    func logger() -> Logger {
        var logger = Logger(label: "cloudbench") { StreamLogHandler.standardError(label: $0) }
        let env = ProcessInfo.processInfo.environment["CLOUDBENCH_LOG"].flatMap { Logger.Level(rawValue: $0.lowercased()) }
        logger.logLevel = verbose ? .debug : env ?? .warning
        return logger
    }
}
