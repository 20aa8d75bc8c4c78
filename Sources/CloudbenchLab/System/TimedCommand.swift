import Foundation
import NetNS

/// What a finished (or stopped) program said.
struct CommandOutput: Sendable {
    let status: Int32
    let stdout: String
    let stderr: String
    let timedOut: Bool
}

/// Runs a program inside a namespace with a deadline: a stuck peer must not hang `lab` or a test.
enum TimedCommand {
    static func run(in namespace: Namespace, _ argv: [String], deadline seconds: Double) throws -> CommandOutput {
        let out = Pipe(), err = Pipe()
        let process = try namespace.spawn(argv, stdout: out.fileHandleForWriting, stderr: err.fileHandleForWriting)
        // Our copies of the write ends must close, or the readers never see end of file.
        try? out.fileHandleForWriting.close()
        try? err.fileHandleForWriting.close()
        let outBox = DataBox(), errBox = DataBox()
        let readers = [
            Thread { outBox.set(out.fileHandleForReading.readDataToEndOfFile()) },
            Thread { errBox.set(err.fileHandleForReading.readDataToEndOfFile()) },
        ]
        readers.forEach { $0.start() }
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning, Date() < deadline { usleep(20_000) }
        let timedOut = process.isRunning
        if timedOut {
            process.terminate()
            let hard = Date().addingTimeInterval(2)
            while process.isRunning, Date() < hard { usleep(20_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        process.waitUntilExit()
        let readDeadline = Date().addingTimeInterval(2)
        while !(outBox.isSet && errBox.isSet), Date() < readDeadline { usleep(5_000) }
        return CommandOutput(status: process.terminationStatus,
                             stdout: String(decoding: outBox.value, as: UTF8.self),
                             stderr: String(decoding: errBox.value, as: UTF8.self),
                             timedOut: timedOut)
    }
}

final class DataBox: @unchecked Sendable {
    private let lock = NSLock()
    private var data: Data?
    func set(_ d: Data) { lock.lock(); data = d; lock.unlock() }
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return data != nil }
    var value: Data { lock.lock(); defer { lock.unlock() }; return data ?? Data() }
}
