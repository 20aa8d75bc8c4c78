import ArgumentParser
import CloudbenchCore
import Foundation

/// How the CLI turns errors into what a person sees and the exit status scripts see.
///
/// Bad input (an inventory problem, a missing file) prints one line per problem and exits 2;
/// anything else prints its one-line description and exits 1. Never a backtrace.
enum InputFailure {
    static func run<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let e as InputErrors {
            for d in e.diagnostics { printError(d.description) }
            throw ExitCode(2)
        } catch let e as FileError {
            printError(e.description)
            throw ExitCode(2)
        } catch let e as ExitCode {
            throw e
        } catch let e as CleanExit {
            throw e
        } catch let e as ValidationError {
            throw e
        } catch {
            printError("cloudbench: \(error)")
            throw ExitCode(1)
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
