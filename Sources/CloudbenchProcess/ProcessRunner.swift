import Foundation
import Syscall

/// Runs a local program to completion with a deadline: argv, stdin and environment in, status,
/// stdout, stderr and whether it timed out back. The one way cloudbench and its tests run a
/// program, wait for it, or start one in the background (`start`, a `ChildProcess`).
///
/// Built on posix_spawn (`Spawn`): each program leads a process group of its own, and the run
/// is over when the program has exited — a child it left behind holding stdout or stderr open
/// does not hold it up (what the program printed before it exited is all read).
public enum ProcessRunner {
    /// How long, after the program exited, its pipes are still read for what a child it left
    /// behind is writing; then the run ends without waiting for their end of file.
    static let drainAfterExit = 0.2
    /// What is kept of each of stdout and stderr; the rest is read and dropped.
    static let outputLimit = 256 << 20

    /// Runs `argv`; after `deadline` seconds its process group gets SIGTERM, then SIGKILL 2 s
    /// later, and the output says `timedOut`. A program killed by a signal has `signal` set
    /// (`TERM`, `KILL`, …) and status 128 + its number. Throws only when it cannot be started.
    public static func run(_ argv: [String], input: Data? = nil, environment: [String: String]? = nil,
                           directory: String? = nil, deadline seconds: Double = 60) throws -> CommandOutput {
        guard let program = argv.first else { throw CommandError(argv: argv, status: 127, stderr: "no program to run") }
        let path = try resolve(program)
        let out = try Posix.pipe(), err = try Posix.pipe()
        let inPipe = input == nil ? nil : try Posix.pipe()
        let theirs: [Int32] = [out.write, err.write] + (inPipe.map { [$0.read] } ?? [])
        var stdout = Stream(fd: out.read), stderr = Stream(fd: err.read)
        var stdin = inPipe.map { StdinFeed(fd: $0.write, bytes: input ?? Data()) }
        defer {
            Posix.close(out.read)
            Posix.close(err.read)
            if stdin?.closed == false { stdin?.finish() }
        }
        let pid: pid_t
        do {
            pid = try Spawn.start(path: path, argv: argv, stdin: inPipe.map { .descriptor($0.read) } ?? .null,
                                  stdout: .descriptor(out.write), stderr: .descriptor(err.write),
                                  environment: environment, directory: directory)
        } catch {
            theirs.forEach(Posix.close)
            throw error
        }
        theirs.forEach(Posix.close)
        let child = ChildProcess(pid: pid, argv: argv)
        for fd in [out.read, err.read] + (inPipe.map { [$0.write] } ?? []) { try? Posix.setNonBlocking(fd, true) }
        if stdin?.bytes.isEmpty == true { stdin?.finish() }

        // A child that stops reading its stdin must not kill us with SIGPIPE: block it on this
        // thread while we write, and take back one the write raised before unblocking.
        var pipeOnly = sigset_t(), previous = sigset_t()
        sigemptyset(&pipeOnly)
        sigaddset(&pipeOnly, SIGPIPE)
        pthread_sigmask(SIG_BLOCK, &pipeOnly, &previous)
        defer {
            var now = timespec(tv_sec: 0, tv_nsec: 0)
            while sigtimedwait(&pipeOnly, nil, &now) == SIGPIPE {}
            pthread_sigmask(SIG_SETMASK, &previous, nil)
        }

        let deadline = Deadline(seconds: max(0, seconds))
        var timedOut = false, killAt: Double?
        var status: Int32?, exitedAt = 0.0
        while true {
            if status == nil {
                do {
                    status = try Posix.reap(pid)
                } catch {
                    status = 0x7f00  // ECHILD: reaped elsewhere; reported as status 127
                }
                if status != nil { exitedAt = Clock.now() }
            }
            if status != nil {
                let drained = stdout.closed && stderr.closed
                if drained || Clock.now() - exitedAt >= drainAfterExit { break }
            } else if !timedOut, deadline.expired {
                timedOut = true
                child.sendToGroup(SIGTERM)
                killAt = Clock.now() + 2
            } else if let at = killAt, Clock.now() >= at {
                child.sendToGroup(SIGKILL)
                killAt = nil
            }
            // Wait (at most 10 ms, so an exit or the deadline is seen) for something to read or write.
            var fds: [pollfd] = []
            for s in [stdout, stderr] where !s.closed { fds.append(pollfd(fd: s.fd, events: Int16(POLLIN), revents: 0)) }
            if let feed = stdin, !feed.closed { fds.append(pollfd(fd: feed.fd, events: Int16(POLLOUT), revents: 0)) }
            if fds.isEmpty {
                Clock.sleep(0.002)
                continue
            }
            _ = try? Posix.poll(&fds, until: Deadline(seconds: 0.01))
            for p in fds where p.revents != 0 {
                if p.fd == stdout.fd { stdout.drain() }
                else if p.fd == stderr.fd { stderr.drain() }
                else { stdin?.feed() }
            }
        }
        // What the exited program left in the pipes is all there; read it.
        stdout.drain()
        stderr.drain()
        let ended = ExitStatus(raw: status ?? 0)
        return CommandOutput(status: ended.code,
                             stdout: String(decoding: stdout.bytes, as: UTF8.self),
                             stderr: String(decoding: stderr.bytes, as: UTF8.self),
                             timedOut: timedOut, signal: ended.signalName)
    }

    /// One of the child's output pipes, read without blocking.
    struct Stream {
        let fd: Int32
        var bytes = Data()
        var closed = false

        init(fd: Int32) { self.fd = fd }

        /// Reads what is there now; end of file (or an error) closes it for reading.
        mutating func drain() {
            guard !closed else { return }
            let size = 65_536
            let chunk = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 16)
            defer { chunk.deallocate() }
            while true {
                guard let result = try? Posix.read(fd, chunk, size) else { closed = true; return }
                guard let n = result.value else { return }
                if n == 0 { closed = true; return }
                let kept = min(n, ProcessRunner.outputLimit - bytes.count)
                if kept > 0 { bytes.append(chunk.assumingMemoryBound(to: UInt8.self), count: kept) }
            }
        }
    }

    /// The child's stdin pipe, written without blocking and closed when all is written.
    struct StdinFeed {
        let fd: Int32
        let bytes: Data
        var offset = 0
        var closed = false

        init(fd: Int32, bytes: Data) {
            self.fd = fd
            self.bytes = bytes
        }

        mutating func feed() {
            guard !closed else { return }
            let result = bytes.withUnsafeBytes { all in
                try? Posix.write(fd, all.baseAddress! + offset, all.count - offset)
            }
            // An error (EPIPE: the child stopped reading) ends the feed; it gets no more.
            guard let result else { finish(); return }
            offset += result.value ?? 0
            if offset >= bytes.count { finish() }
        }

        /// Closes our end so the child sees end of file.
        mutating func finish() {
            guard !closed else { return }
            closed = true
            Posix.close(fd)
        }
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
        /// This process's own standard input (a child that talks to the user's terminal).
        case inherit
    }

    /// Starts `argv` without waiting; the caller owns the process (a server, a test peer) and
    /// ends it with `stop` (its whole process group) or `terminate`.
    ///
    /// `stdout` and `stderr` are a `FileHandle` (the caller keeps its own copy open) or a `Pipe`
    /// (our copy of its write end is closed once the program has it). nil is /dev/null.
    public static func start(_ argv: [String], stdin: Input = .null, stdout: Any? = nil, stderr: Any? = nil,
                             environment: [String: String]? = nil, directory: String? = nil) throws -> ChildProcess {
        guard let program = argv.first else { throw CommandError(argv: argv, status: 127, stderr: "no program to run") }
        func source(_ target: Any?) -> Spawn.Source {
            switch target {
            case let handle as FileHandle: return .descriptor(handle.fileDescriptor)
            case let pipe as Pipe: return .descriptor(pipe.fileHandleForWriting.fileDescriptor)
            default: return .null
            }
        }
        let input: Spawn.Source
        switch stdin {
        case .null: input = .null
        case .pipe(let p): input = .descriptor(p.fileHandleForReading.fileDescriptor)
        case .inherit: input = .descriptor(STDIN_FILENO)
        }
        let pid = try Spawn.start(path: try resolve(program), argv: argv, stdin: input, stdout: source(stdout),
                                  stderr: source(stderr), environment: environment, directory: directory)
        // The program has its own copies of the pipes' far ends; ours would keep them open.
        for target in [stdout, stderr] { if let pipe = target as? Pipe { try? pipe.fileHandleForWriting.close() } }
        if case .pipe(let p) = stdin { try? p.fileHandleForReading.close() }
        let child = ChildProcess(pid: pid, argv: argv)
        // As Foundation's Process does: the pipes live as long as the process object, so a caller
        // that drops its copy of one does not close the far end under the program (SIGPIPE).
        var pipes: [Pipe] = [stdout, stderr].compactMap { $0 as? Pipe }
        if case .pipe(let p) = stdin { pipes.append(p) }
        child.retain(pipes)
        return child
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
