import Foundation

/// A command that ran and failed, with what it said on stderr.
public struct CommandError: Error, CustomStringConvertible, Sendable {
    public let argv: [String]
    public let status: Int32
    public let stderr: String

    public var description: String {
        let said = stderr.trimmingCharacters(in: .whitespacesAndNewlines)
        return "`\(argv.joined(separator: " "))` exited with status \(status)" + (said.isEmpty ? "" : ": \(said)")
    }
}

/// Runs local programs (iproute2, tc, sshd) and captures their output.
public enum Command {
    /// Runs `argv` to completion and returns its stdout; throws `CommandError` on a non-zero exit.
    @discardableResult
    public static func run(_ argv: [String], input: String? = nil) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try resolve(argv[0]))
        process.arguments = Array(argv.dropFirst())
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let inPipe = input.map { _ in Pipe() }
        process.standardInput = inPipe ?? FileHandle.nullDevice
        try process.run()
        if let inPipe, let input {
            inPipe.fileHandleForWriting.write(Data(input.utf8))
            try? inPipe.fileHandleForWriting.close()
        }
        // Read both pipes concurrently so a chatty stderr cannot block the child.
        let errData = LockedData()
        let errDone = DispatchSemaphore(value: 0)
        Thread { errData.set(err.fileHandleForReading.readDataToEndOfFile()); errDone.signal() }.start()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        errDone.wait()
        let stdout = String(decoding: outData, as: UTF8.self)
        if process.terminationStatus != 0 {
            throw CommandError(argv: argv, status: process.terminationStatus,
                               stderr: String(decoding: errData.value, as: UTF8.self))
        }
        return stdout
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

private final class LockedData: @unchecked Sendable {
    private let lock = NSLock()
    private var data: Data?
    func set(_ d: Data) { lock.lock(); data = d; lock.unlock() }
    var value: Data { lock.lock(); defer { lock.unlock() }; return data ?? Data() }
}
