import ArgumentParser
import CloudbenchCore
import Foundation

/// How the CLI turns errors into what a person sees and the exit status scripts see.
///
/// Bad input exits 2: a problem with a position prints as `file:line:col: message` (all of them,
/// one a line), a problem without one as `error: path: message`. Anything else prints
/// `error: …` and exits 1. Never a backtrace.
enum InputFailure {
    static func run<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch {
            throw present(error)
        }
    }

    static func run<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch {
            throw present(error)
        }
    }

    /// Prints `error` for a person and returns what to throw to ArgumentParser.
    static func present(_ error: Error) -> Error {
        switch error {
        case let e as InputErrors:
            for d in e.diagnostics { printError(d.description) }
            return ExitCode(2)
        case let e as FileError:
            printError("error: \(e)")
            return ExitCode(2)
        case is ExitCode, is CleanExit, is ValidationError:
            return error
        default:
            printError("error: \(error)")
            return ExitCode(1)
        }
    }
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

/// `--providers DIR`, shared by the commands that read the catalogs.
struct CatalogOptions: ParsableArguments {
    @Option(name: .customLong("providers"), help: "Folder of provider catalogs (default: providers/, or $CLOUDBENCH_PROVIDERS).")
    var directory: String?

    func load() throws -> Catalog {
        try Catalog.load(directory: directory ?? Catalog.defaultDirectory())
    }
}
