import Foundation

/// Runs a local program to completion with a deadline: argv, stdin and environment in, status,
/// stdout, stderr and whether it timed out back. The one way cloudbench and its tests run a
/// program and wait for it (a long-lived server is started with `start`).
public enum ProcessRunner {
    /// Runs `argv`; after `deadline` seconds the program gets SIGTERM, then SIGKILL 2 s later,
    /// and the output says `timedOut`. Throws only when the program cannot be started.
    public static func run(_ argv: [String], input: Data? = nil, environment: [String: String]? = nil,
                           directory: String? = nil, deadline seconds: Double = 60) throws -> CommandOutput {
        let out = Pipe(), err = Pipe()
        let inPipe = input.map { _ in Pipe() }
        // Handed over as pipes, Process closes our copies of their write ends, so the readers see end of file.
        let process = try start(argv, stdin: inPipe.map { .pipe($0) } ?? .null, stdout: out, stderr: err,
                                environment: environment, directory: directory)
        // Read both pipes (and write stdin) on threads of their own, so no pipe can fill and block the child.
        let outData = Locked<Data?>(nil), errData = Locked<Data?>(nil)
        let finished = DispatchGroup()
        for (pipe, box) in [(out, outData), (err, errData)] {
            finished.enter()
            Thread { box.withLock { $0 = pipe.fileHandleForReading.readDataToEndOfFile() }; finished.leave() }.start()
        }
        if let inPipe, let input {
            Thread {
                try? inPipe.fileHandleForWriting.write(contentsOf: input)
                try? inPipe.fileHandleForWriting.close()
            }.start()
        }
        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }
        if !process.isRunning { exited.signal() }
        var timedOut = false
        if exited.wait(timeout: .now() + max(0, seconds)) == .timedOut {
            timedOut = true
            process.terminate()
            if exited.wait(timeout: .now() + 2) == .timedOut {
                kill(process.processIdentifier, SIGKILL)
                _ = exited.wait(timeout: .now() + 2)
            }
        }
        process.waitUntilExit()
        // A grandchild that kept the pipes open must not hang us either.
        _ = finished.wait(timeout: .now() + 2)
        return CommandOutput(status: process.terminationStatus,
                             stdout: String(decoding: outData.value ?? Data(), as: UTF8.self),
                             stderr: String(decoding: errData.value ?? Data(), as: UTF8.self),
                             timedOut: timedOut)
    }

    /// Runs `argv` and returns its stdout; throws `CommandError` on a non-zero exit or a timeout.
    @discardableResult
    public static func check(_ argv: [String], input: Data? = nil, environment: [String: String]? = nil,
                             deadline seconds: Double = 60) throws -> String {
        let out = try run(argv, input: input, environment: environment, deadline: seconds)
        guard out.succeeded else {
            throw CommandError(argv: argv, status: out.status, stderr: out.stderr, timedOut: out.timedOut)
        }
        return out.stdout
    }

    /// Where a started program's standard input comes from.
    public enum Input {
        case null
        case pipe(Pipe)
    }

    /// Starts `argv` without waiting; the caller owns the process (a server, a test peer).
    ///
    /// `stdout` and `stderr` are what `Process` takes: a `FileHandle` (the caller keeps its own
    /// copy open) or a `Pipe` (the process keeps it alive; our copy of its write end is closed).
    /// nil is /dev/null.
    public static func start(_ argv: [String], stdin: Input = .null, stdout: Any? = nil, stderr: Any? = nil,
                             environment: [String: String]? = nil, directory: String? = nil) throws -> Process {
        guard let program = argv.first else { throw CommandError(argv: argv, status: 127, stderr: "no program to run") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try resolve(program))
        process.arguments = Array(argv.dropFirst())
        switch stdin {
        case .null: process.standardInput = FileHandle.nullDevice
        case .pipe(let p): process.standardInput = p
        }
        process.standardOutput = stdout ?? FileHandle.nullDevice
        process.standardError = stderr ?? FileHandle.nullDevice
        if let environment { process.environment = environment }
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        try process.run()
        return process
    }

    /// Finds a program on PATH, then in the sbin folders that root's tools live in.
    public static func resolve(_ name: String) throws -> String {
        if name.contains("/") { return name }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let dirs = path.split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin", "/usr/bin", "/bin"]
        for dir in dirs where FileManager.default.isExecutableFile(atPath: "\(dir)/\(name)") {
            return "\(dir)/\(name)"
        }
        throw CommandError(argv: [name], status: 127, stderr: "\(name): not found on PATH; install it (see `make setup`)")
    }
}
