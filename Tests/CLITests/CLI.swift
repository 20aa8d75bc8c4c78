import CloudbenchProcess
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

    /// Runs `cloudbench args…` with `env` added, two minutes at most.
    static func run(_ args: [String], cwd: String? = nil, env: [String: String] = [:]) throws -> Result {
        let r = try ProcessRunner.run(["\(binDir)/cloudbench"] + args,
                                      environment: ProcessInfo.processInfo.environment.merging(env) { _, new in new },
                                      directory: cwd ?? root, deadline: 120)
        return Result(status: r.status, stdout: r.stdout, stderr: r.stderr)
    }
}
