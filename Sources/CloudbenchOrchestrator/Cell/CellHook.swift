import CloudbenchCore
import CloudbenchProcess
import Foundation

/// A program this machine runs right before each cell measures, named by `CLOUDBENCH_BEFORE_CELL`.
///
/// It learns the cell from its environment (`CLOUDBENCH_CELL_PAIR`, `CLOUDBENCH_CELL_PATH`,
/// `CLOUDBENCH_CELL_TEST`, `CLOUDBENCH_CELL_REPETITION`), runs after the cell's path is set up
/// and before the agent server starts, and has 10 s; a failure or a timeout fails the cell with
/// what it printed on stderr. `cloudbench lab exec` sets it to the lab's `before-cell` script,
/// which refills an emulated burst credit before a burstable pair's `tcp_bw` (docs/lab.md).
public struct CellHook: Sendable {
    public static let environmentVariable = "CLOUDBENCH_BEFORE_CELL"

    public var program: String
    public var timeoutSeconds: Double

    public init(program: String, timeoutSeconds: Double = 10) {
        self.program = program
        self.timeoutSeconds = timeoutSeconds
    }

    /// The hook the environment names, if any.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> CellHook? {
        guard let program = environment[environmentVariable], !program.isEmpty else { return nil }
        return CellHook(program: program)
    }

    /// Runs the program for `cell`; throws a one-line reason when it fails or overruns.
    public func run(_ cell: Cell) async throws {
        let program = self.program, timeout = self.timeoutSeconds
        try await withCheckedThrowingContinuation { (done: CheckedContinuation<Void, Error>) in
            DispatchQueue.global().async {
                do {
                    try Self.runBlocking(program: program, cell: cell, timeout: timeout)
                    done.resume()
                } catch {
                    done.resume(throwing: error)
                }
            }
        }
    }

    private static func runBlocking(program: String, cell: Cell, timeout: Double) throws {
        var environment = ProcessInfo.processInfo.environment
        environment["CLOUDBENCH_CELL_PAIR"] = cell.pair
        environment["CLOUDBENCH_CELL_PATH"] = cell.path.name
        environment["CLOUDBENCH_CELL_TEST"] = cell.test.rawValue
        environment["CLOUDBENCH_CELL_REPETITION"] = "\(cell.repetition)"
        // The one process runner: its deadline ends an overrunning hook, and a child the hook left
        // running (holding its output open) delays the answer by at most 2 s.
        let out: CommandOutput
        do {
            out = try ProcessRunner.run([program], environment: environment, deadline: timeout)
        } catch {
            throw CellFailure("\(environmentVariable) \(program) cannot run: \(error)")
        }
        if out.timedOut {
            throw CellFailure("\(environmentVariable) \(program) did not finish within \(String(format: "%g", timeout)) s")
        }
        guard out.succeeded else {
            // A hook says a line or two: its last line of stderr is the reason.
            let said = String(out.stderr.suffix(2000)).trimmingCharacters(in: .whitespacesAndNewlines)
            let how = out.signal.map { "signal \($0)" } ?? "exit \(out.status)"
            throw CellFailure("\(environmentVariable) \(program) failed (\(how))"
                + (said.isEmpty ? "" : ": \(said.split(separator: "\n").last ?? "")"))
        }
    }
}
