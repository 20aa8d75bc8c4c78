import CloudbenchCore
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
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        var environment = ProcessInfo.processInfo.environment
        environment["CLOUDBENCH_CELL_PAIR"] = cell.pair
        environment["CLOUDBENCH_CELL_PATH"] = cell.path.name
        environment["CLOUDBENCH_CELL_TEST"] = cell.test.rawValue
        environment["CLOUDBENCH_CELL_REPETITION"] = "\(cell.repetition)"
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        let err = Pipe()
        process.standardError = err
        let ended = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in ended.signal() }
        do { try process.run() } catch {
            throw CellFailure("\(environmentVariable) \(program) cannot run: \(error.localizedDescription)")
        }
        if ended.wait(timeout: .now() + timeout) == .timedOut {
            process.terminate()
            _ = ended.wait(timeout: .now() + 2)
            throw CellFailure("\(environmentVariable) \(program) did not finish within \(String(format: "%g", timeout)) s")
        }
        // The child has ended; what it wrote is in the pipe (a hook says one line, not megabytes).
        let said = String(decoding: err.fileHandleForReading.availableData.prefix(2000), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        guard process.terminationStatus == 0 else {
            throw CellFailure("\(environmentVariable) \(program) failed (exit \(process.terminationStatus))"
                + (said.isEmpty ? "" : ": \(said.split(separator: "\n").last ?? "")"))
        }
    }
}
