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
        var environment = ProcessInfo.processInfo.environment
        environment["CLOUDBENCH_CELL_PAIR"] = cell.pair
        environment["CLOUDBENCH_CELL_PATH"] = cell.path.name
        environment["CLOUDBENCH_CELL_TEST"] = cell.test.rawValue
        environment["CLOUDBENCH_CELL_REPETITION"] = "\(cell.repetition)"
        // Stderr goes to a file, not a pipe: a pipe could fill up, or be held open by a child the
        // hook left behind, and reading it would then block.
        let errPath = FileManager.default.temporaryDirectory
            .appendingPathComponent("cloudbench-before-cell-\(getpid())-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: errPath) }

        // posix_spawn and waitpid, not ProcessRunner (Foundation's Process): the hook has ended
        // when its own process has, even if it left a child running; Process waits for that
        // child too (8 s in CellHookTests). ProcessRunner should move to posix_spawn and this
        // loop go with it: until then this is the one place that spawns by hand.
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        // cloudbench opens its sockets and files close-on-exec (TCPConnector, KnownHosts), so
        // none of them reaches the hook.
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup(program), nil]
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for p in argv + envp { free(p) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, program, &actions, nil, argv, envp)
        guard spawned == 0 else {
            throw CellFailure("\(environmentVariable) \(program) cannot run: \(String(cString: strerror(spawned)))")
        }
        var status: Int32 = 0
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid { break }
            if r < 0 && errno != EINTR { throw CellFailure("\(environmentVariable) \(program): waitpid failed: \(String(cString: strerror(errno)))") }
            if Date() >= deadline {
                kill(pid, SIGTERM)
                usleep(200_000)
                if waitpid(pid, &status, WNOHANG) != pid {
                    kill(pid, SIGKILL)
                    _ = waitpid(pid, &status, 0)
                }
                throw CellFailure("\(environmentVariable) \(program) did not finish within \(String(format: "%g", timeout)) s")
            }
            usleep(10_000)
        }
        // Its last 2000 bytes: a hook says a line or two, and the file is read no further.
        let size = (try? FileManager.default.attributesOfItem(atPath: errPath)[.size] as? NSNumber)?.uint64Value ?? 0
        let written = FileHandle(forReadingAtPath: errPath)
        try? written?.seek(toOffset: size > 2000 ? size - 2000 : 0)
        let tail = written?.readData(ofLength: 2000) ?? Data()
        try? written?.close()
        let said = String(decoding: tail, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        // WIFEXITED/WEXITSTATUS are macros; the status word holds the exit code in bits 8-15.
        let exited = status & 0x7f == 0, code = (status >> 8) & 0xff
        guard exited && code == 0 else {
            let how = exited ? "exit \(code)" : "signal \(status & 0x7f)"
            throw CellFailure("\(environmentVariable) \(program) failed (\(how))"
                + (said.isEmpty ? "" : ": \(said.split(separator: "\n").last ?? "")"))
        }
    }
}
