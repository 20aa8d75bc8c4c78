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
        // The hook has ended when its own process has, even if it left a child running that
        // holds its stderr: ProcessRunner does not wait for that child.
        let ran: CommandOutput
        do {
            ran = try ProcessRunner.run([program], environment: environment, deadline: timeout)
        } catch let error as CommandError {
            throw CellFailure("\(environmentVariable) \(program) cannot run: \(error.stderr)")
        }
        if ran.timedOut {
            throw CellFailure("\(environmentVariable) \(program) did not finish within \(String(format: "%g", timeout)) s")
        }
        guard ran.succeeded else {
            // A hook says a line or two: its last line is the reason.
            let said = String(ran.stderr.suffix(2000)).trimmingCharacters(in: .whitespacesAndNewlines)
            let how = ran.signal.map { "signal \($0)" } ?? "exit \(ran.status)"
            throw CellFailure("\(environmentVariable) \(program) failed (\(how))"
                + (said.isEmpty ? "" : ": \(said.split(separator: "\n").last ?? "")"))
        }
    }
}
