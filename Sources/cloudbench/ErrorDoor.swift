import ArgumentParser
import CloudbenchCore
import Foundation

/// The one door through which errors leave the CLI: what a person sees, and the exit status
/// scripts see.
///
/// A `UserFacingError` prints its problems with a position as `file:line:col: message` (all of
/// them, one a line), or else one line `PREFIX: message`, and exits with the status it names (2
/// for bad input). Anything else prints `PREFIX: …` and exits 1. Never a backtrace.
enum ErrorDoor {
    static func run<T>(as prefix: String = "error", _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch {
            throw present(error, prefix: prefix)
        }
    }

    static func run<T>(as prefix: String = "error", _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch {
            throw present(error, prefix: prefix)
        }
    }

    /// Prints `error` for a person and returns what to throw to ArgumentParser.
    static func present(_ error: Error, prefix: String = "error") -> Error {
        switch error {
        case is ExitCode, is CleanExit, is ValidationError:
            return error
        case let e as UserFacingError:
            if e.diagnostics.isEmpty { printError("\(prefix): \(e)") } else { e.diagnostics.forEach { printError($0.description) } }
            return ExitCode(e.exitStatus)
        default:
            printError("\(prefix): \(error)")
            return ExitCode(.failures)
        }
    }
}

extension ExitCode {
    /// The exit status by name: `throw ExitCode(.badInput)`.
    init(_ status: ExitStatus) { self.init(status.rawValue) }
}

/// Writes a file the user asked for (a report, a chart), creating its folder.
enum OutputFile {
    static func write(_ text: String, to path: String) throws {
        let dir = (path as NSString).deletingLastPathComponent
        do {
            if !dir.isEmpty { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
            try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw FileError(path, "cannot write the file: \((error as NSError).localizedDescription)")
        }
    }
}

func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}
