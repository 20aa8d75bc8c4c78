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

/// Runs a program to completion, capturing stdout, stderr and the exit status.
struct Outcome {
    let status: Int32
    let stdout: String
    let stderr: String

    var json: [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(stdout.utf8))) as? [String: Any]
    }

    static func run(_ argv: [String], environment: [String: String]? = nil) throws -> Outcome {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try ProcessRunner.resolve(argv[0]))
        p.arguments = Array(argv.dropFirst())
        if let environment { p.environment = environment }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        // Drain stderr on another thread so neither pipe can fill and block the child.
        let errBox = DataBox()
        let reader = Thread { errBox.set(err.fileHandleForReading.readDataToEndOfFile()) }
        reader.start()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let e = errBox.wait()
        return Outcome(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
                       stderr: String(decoding: e, as: UTF8.self))
    }
}

struct HarnessError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

final class DataBox: @unchecked Sendable {
    private let cond = NSCondition()
    private var data: Data?
    func set(_ d: Data) { cond.lock(); data = d; cond.broadcast(); cond.unlock() }
    func wait() -> Data {
        cond.lock(); defer { cond.unlock() }
        while data == nil { cond.wait() }
        return data!
    }
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
    private var server: Process?
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
    func startServer(deadline: Double = 120, token: String? = nil) throws -> Process {
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
    func spawnClient(_ arguments: [String]) throws -> Process {
        try clientNS.spawn([AgentBinary.path, "run", "--server", address, "--token", token] + arguments)
    }

    func close() {
        if let server, server.isRunning {
            kill(server.processIdentifier, SIGKILL)
            server.waitUntilExit()
        }
        // `ip netns exec` runs the agent as its child with exec, so the pid is the agent's;
        // deleting the namespaces then removes the links too.
        clientNS.delete()
        serverNS.delete()
        try? FileManager.default.removeItem(atPath: logPath)
    }
}
