import Foundation

/// Runs the built `cloudbench` executable as a user would, from the repository root.
enum CLI {
    static let root: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    /// `$CLOUDBENCH_BIN` (set by `make test` to the release build), else the debug build.
    static var binDir: String {
        if let b = ProcessInfo.processInfo.environment["CLOUDBENCH_BIN"], !b.isEmpty { return b }
        return "\(root)/.build/debug"
    }

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static func run(_ args: [String], cwd: String? = nil, env: [String: String] = [:]) throws -> Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "\(binDir)/cloudbench")
        p.arguments = args
        p.currentDirectoryURL = URL(fileURLWithPath: cwd ?? root)
        var e = ProcessInfo.processInfo.environment
        e.merge(env) { _, new in new }
        p.environment = e
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        // Read stderr on another thread so neither pipe can fill and block the child.
        final class Box: @unchecked Sendable { var data = Data() }
        let errBox = Box()
        let done = DispatchSemaphore(value: 0)
        Thread { errBox.data = err.fileHandleForReading.readDataToEndOfFile(); done.signal() }.start()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        done.wait()
        let errData = errBox.data
        return Result(status: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData, as: UTF8.self))
    }
}
