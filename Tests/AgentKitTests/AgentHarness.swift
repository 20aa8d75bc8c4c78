import Foundation
import NetNS

/// The agent executable the tests run: `$CLOUDBENCH_BIN/cloudbench-agent` when set (as
/// `make test` does, with the release build), else the release build when it exists (the
/// accuracy tests want it), else the debug build.
enum AgentBinary {
    static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    static var path: String {
        if let bin = ProcessInfo.processInfo.environment["CLOUDBENCH_BIN"], !bin.isEmpty {
            return "\(bin)/cloudbench-agent"
        }
        let release = "\(packageRoot)/.build/release/cloudbench-agent"
        if FileManager.default.isExecutableFile(atPath: release) { return release }
        return "\(packageRoot)/.build/debug/cloudbench-agent"
    }

    /// Whether the binary is the shipping build (static Swift stdlib), which the portability
    /// test checks.
    static var isShippingBuild: Bool {
        ProcessInfo.processInfo.environment["CLOUDBENCH_BIN"] != nil
            || path.hasSuffix(".build/release/cloudbench-agent")
    }
}

/// What a program printed and how it ended (the one process runner's `CommandOutput`, with the
/// agent's JSON at hand).
struct Outcome {
    let status: Int32
    let stdout: String
    let stderr: String

    var json: [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(stdout.utf8))) as? [String: Any]
    }

    /// Runs `argv` to completion with the process runner; one that outlives `deadline` is
    /// stopped (status 143, a test that waits for it fails rather than hangs).
    static func run(_ argv: [String], environment: [String: String]? = nil, deadline: Double = 300) throws -> Outcome {
        let out = try ProcessRunner.run(argv, environment: environment, deadline: deadline)
        return Outcome(status: out.status, stdout: out.stdout,
                       stderr: out.stderr + (out.timedOut ? "\n(stopped after \(deadline) s)" : ""))
    }
}

struct HarnessError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

/// Two hosts joined by a veth: the server's namespace and the client's, neither with a
/// default route, removed (with every process started in them) when the pair is closed.
final class AgentPair {
    let serverNS: Namespace
    let clientNS: Namespace
    let serverEnd: Endpoint
    let clientEnd: Endpoint
    let port: UInt16 = 5201
    let token = "tok-\(UInt64.random(in: 0...UInt64.max))"
    private var server: ChildProcess?
    private let logPath: String

    init(subnet: String) throws {
        serverNS = try Namespace.create(prefix: "cbt")
        do {
            clientNS = try Namespace.create(prefix: "cbt")
        } catch {
            serverNS.delete()
            throw error
        }
        do {
            (clientEnd, serverEnd) = try Link.veth(clientNS, serverNS, subnet: subnet)
        } catch {
            serverNS.delete(); clientNS.delete()
            throw error
        }
        logPath = NSTemporaryDirectory() + "cbt-agent-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).log"
    }

    var address: String { "\(serverEnd.address):\(port)" }

    /// Starts `serve` in the server namespace and waits until it listens.
    @discardableResult
    func startServer(deadline: Double = 120, token: String? = nil) throws -> ChildProcess {
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = FileHandle(forWritingAtPath: logPath)!
        let p = try serverNS.spawn([AgentBinary.path, "serve", "--listen", address, "--deadline", String(deadline)],
                                   stderr: log, environment: ["CLOUDBENCH_AGENT_TOKEN": token ?? self.token])
        try? log.close()
        server = p
        let until = Date().addingTimeInterval(10)
        while Date() < until {
            if serverLog.contains("listening on") { return p }
            if !p.isRunning { break }
            usleep(20_000)
        }
        throw HarnessError(message: "the agent server did not start listening within 10 s: \(serverLog)")
    }

    var serverLog: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Runs the agent client inside the client namespace.
    func client(_ arguments: [String], token: String? = nil) throws -> Outcome {
        try Outcome.run(["ip", "netns", "exec", clientNS.name, AgentBinary.path, "run", "--server", address,
                         "--token", token ?? self.token] + arguments)
    }

    /// Starts a client without waiting (for the killed-client test); the caller ends it.
    func spawnClient(_ arguments: [String]) throws -> ChildProcess {
        try clientNS.spawn([AgentBinary.path, "run", "--server", address, "--token", token] + arguments)
    }

    func close() {
        server?.stop(grace: 0)
        // `ip netns exec` runs the agent as its child with exec, so the pid is the agent's;
        // deleting the namespaces then removes the links too.
        clientNS.delete()
        serverNS.delete()
        try? FileManager.default.removeItem(atPath: logPath)
    }
}
