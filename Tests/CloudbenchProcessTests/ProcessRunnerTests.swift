import CloudbenchProcess
import Foundation
import Testing

/// The one process runner: what a program printed, how it ended, its deadline, and the
/// programs it leaves behind.
@Suite("process runner")
struct ProcessRunnerTests {
    /// Whether `pid` is still a running process (a zombie waiting for its reaper is not).
    static func alive(_ pid: pid_t) -> Bool {
        guard kill(pid, 0) == 0, let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        return stat[stat.index(close, offsetBy: 2)] != "Z"
    }

    /// A temporary file for a pid a script writes; removed by the caller.
    static func pidFile() -> String { NSTemporaryDirectory() + "cb-runner-\(getpid())-\(UUID().uuidString)" }

    /// The pid written in `file`, if any.
    static func pid(in file: String) -> Int32? {
        Int32((try? String(contentsOfFile: file, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "")
    }

    @Test("stdout, stderr, stdin, environment, directory and the exit status come back as they were")
    func basics() throws {
        let out = try ProcessRunner.run(["sh", "-c", "cat; echo \"$GREETING\" >&2; pwd; exit 3"],
                                        input: Data("fed\n".utf8), environment: ["GREETING": "hello", "PATH": "/usr/bin:/bin"],
                                        directory: "/tmp")
        #expect(out.stdout == "fed\n/tmp\n")
        #expect(out.stderr == "hello\n")
        #expect(out.status == 3 && !out.timedOut && out.signal == nil && !out.succeeded)
        #expect(try ProcessRunner.check(["printf", "%s", "ok"]) == "ok")
        #expect(throws: CommandError.self) { try ProcessRunner.check(["false"]) }
        #expect(throws: CommandError.self) { try ProcessRunner.run(["/nonexistent/program"]) }
        #expect(throws: CommandError.self) { try ProcessRunner.run(["true"], directory: "/nonexistent-dir") }
    }

    @Test("large output on both pipes and large input do not block the child")
    func largeStreams() throws {
        let big = Data(repeating: 0x65, count: 3_000_000)
        let started = Date()
        let out = try ProcessRunner.run(["sh", "-c", "head -c 2000000 /dev/zero >&2; wc -c"], input: big, deadline: 30)
        #expect(Date().timeIntervalSince(started) < 2)
        #expect(out.succeeded)
        #expect(out.stdout.trimmingCharacters(in: .whitespaces) == "3000000\n")
        #expect(out.stderr.utf8.count == 2_000_000)
    }

    @Test("a child that stops reading its stdin neither blocks the run nor kills us with SIGPIPE")
    func stdinNotRead() throws {
        let started = Date()
        let out = try ProcessRunner.run(["sh", "-c", "exec 0<&-; echo done"], input: Data(count: 4_000_000), deadline: 10)
        #expect(out.stdout == "done\n" && out.succeeded)
        #expect(Date().timeIntervalSince(started) < 5)
    }

    @Test("a grandchild holding stdout and stderr open does not hold up the run")
    func grandchildHoldsPipes() throws {
        let pidFile = Self.pidFile()
        defer { try? FileManager.default.removeItem(atPath: pidFile) }
        let started = Date()
        let out = try ProcessRunner.run(["sh", "-c", "sleep 5 & echo $! > \(pidFile); echo said; echo warned >&2; exit 0"], deadline: 20)
        let took = Date().timeIntervalSince(started)
        let grandchild = Self.pid(in: pidFile)
        // A normal exit leaves what the program started alone; the test ends its grandchild by pid.
        #expect(grandchild.map(Self.alive) == true)
        if let grandchild { kill(grandchild, SIGKILL) }
        #expect(out.stdout == "said\n" && out.stderr == "warned\n" && out.succeeded)
        #expect(took < 1, "the run took \(took) s; the child exited at once")
    }

    @Test("at the deadline the whole process group is stopped, grandchildren included")
    func deadlineKillsGroup() throws {
        let pidFile = Self.pidFile()
        defer { try? FileManager.default.removeItem(atPath: pidFile) }
        let started = Date()
        let out = try ProcessRunner.run(["sh", "-c", "sleep 30 & echo $! > \(pidFile); echo started; wait"], deadline: 0.5)
        let took = Date().timeIntervalSince(started)
        #expect(out.timedOut && !out.succeeded)
        #expect(out.signal == "TERM" && out.status == 128 + SIGTERM)
        #expect(out.stdout == "started\n")
        #expect(took >= 0.5 && took < 2, "stopped after \(took) s")
        let grandchild = try #require(Self.pid(in: pidFile))
        let until = Date().addingTimeInterval(2)
        while Self.alive(grandchild), Date() < until { usleep(10_000) }
        #expect(!Self.alive(grandchild), "the grandchild \(grandchild) outlived the deadline")
    }

    @Test("a program that ignores SIGTERM is killed 2 s later")
    func deadlineKill() throws {
        let started = Date()
        let out = try ProcessRunner.run(["sh", "-c", "trap '' TERM; echo ready; while :; do sleep 0.1; done"], deadline: 0.3)
        let took = Date().timeIntervalSince(started)
        #expect(out.timedOut && out.signal == "KILL" && out.status == 128 + SIGKILL)
        #expect(took >= 2.2 && took < 5, "killed after \(took) s")
    }

    @Test("an exit by a signal is reported as the signal")
    func exitBySignal() throws {
        let out = try ProcessRunner.run(["sh", "-c", "echo before; kill -SEGV $$"])
        #expect(out.stdout == "before\n")
        #expect(out.signal == "SEGV" && out.status == 128 + SIGSEGV && !out.timedOut && !out.succeeded)
        let error = try #require(throws: CommandError.self) { try ProcessRunner.check(["sh", "-c", "kill -KILL $$"]) }
        #expect(error.status == 128 + SIGKILL)
    }

    @Test("a started program: pid, running, stop by pid with its group, exit status")
    func started() throws {
        let log = NSTemporaryDirectory() + "cb-runner-log-\(getpid())-\(UUID().uuidString)"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: log) }
        let handle = try #require(FileHandle(forWritingAtPath: log))
        let server = try ProcessRunner.start(["sh", "-c", "sleep 30 & echo $!; wait"], stdout: handle)
        try handle.close()
        #expect(server.processIdentifier > 0 && server.isRunning)
        #expect(getpgid(server.processIdentifier) == server.processIdentifier, "not the leader of its own group")
        var grandchild: Int32?
        let until = Date().addingTimeInterval(5)
        while grandchild == nil, Date() < until {
            grandchild = Self.pid(in: log)
            usleep(10_000)
        }
        let started = Date()
        server.stop()
        #expect(Date().timeIntervalSince(started) < 1.5)
        #expect(!server.isRunning && server.terminationSignal == SIGTERM && server.terminationStatus == 128 + SIGTERM)
        if let grandchild {
            usleep(100_000)
            #expect(!Self.alive(grandchild), "stop left the grandchild \(grandchild)")
        } else {
            Issue.record("the started program never said its child's pid")
        }
        server.stop()  // a second stop does nothing

        let quick = try ProcessRunner.start(["sh", "-c", "exit 7"])
        quick.waitUntilExit()
        #expect(quick.terminationStatus == 7 && quick.terminationSignal == nil && !quick.isRunning)
        let pipe = Pipe()
        let talker = try ProcessRunner.start(["echo", "through a pipe"], stdout: pipe)
        #expect(String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) == "through a pipe\n")
        #expect(talker.wait(seconds: 5) && talker.terminationStatus == 0)
    }
}
