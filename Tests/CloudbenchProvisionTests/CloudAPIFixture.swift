import CloudbenchProcess
import Foundation
import NetNS
import XCTest

/// A loopback fake of a provider API (`Fixtures/fake_digitalocean.py`, `Fixtures/fake_azure.py`) in a
/// network namespace with loopback only and no route at all, and `cloudbench` run inside it: the
/// made-up addresses the fakes hand out (203.0.113.x, 198.51.100.x) are unreachable from there.
/// `close()` stops the fake (by its pid) and removes the namespace and the folder, also after a failure.
final class CloudAPIFixture {
    let ns: Namespace
    let dir: String
    let port: Int
    let script: String
    private var server: ChildProcess?

    static var binDir: String {
        if let b = ProcessInfo.processInfo.environment["CLOUDBENCH_BIN"], !b.isEmpty { return b }
        return "\(Repo.root)/.build/debug"
    }

    init(script: String, prefix: String) throws {
        guard getuid() == 0 else { throw XCTSkip("network namespaces need root") }
        self.script = "\(Repo.fixtures)/\(script)"
        ns = try Namespace.create(prefix: prefix)
        port = 6000 + Int(getpid() % 1000)
        dir = NSTemporaryDirectory() + "cb-\(prefix)-\(getpid())-\(UUID().uuidString.prefix(8))"
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        } catch {
            ns.delete()
            throw error
        }
    }

    func start(_ arguments: [String]) throws {
        XCTAssertFalse(ns.hasDefaultRoute())
        FileManager.default.createFile(atPath: "\(dir)/fake.log", contents: nil)
        let log = FileHandle(forWritingAtPath: "\(dir)/fake.log")
        server = try ns.spawn(["python3", script, "serve", "\(port)"] + arguments, stdout: log, stderr: log)
        _ = try ns.run(["python3", script, "wait", "\(port)"])
    }

    func close() {
        server?.stop(grace: 3)
        ns.delete()
        try? FileManager.default.removeItem(atPath: dir)
    }

    var url: String { "http://127.0.0.1:\(port)" }

    /// The fake's whole state (`/_state`) as JSON.
    func state() throws -> [String: Any] {
        let text = try ns.run(["python3", script, "state", "\(port)"])
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    func seed(_ args: [String]) throws {
        _ = try ns.run(["python3", script, "seed", "\(port)"] + args)
    }

    /// `cloudbench ARGS` inside the namespace, from the repository root, with `environment` added
    /// (and no cloud credentials inherited); two minutes at most.
    func cloudbench(_ args: [String], environment: [String: String]) throws -> CommandOutput {
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("AWS_") && !$0.key.hasPrefix("AZURE_") && $0.key != "DIGITALOCEAN_TOKEN" }
        env.merge(environment) { _, b in b }
        let out = try ns.output(of: ["sh", "-c", "cd \"$0\" && exec \"$@\"", Repo.root, "\(Self.binDir)/cloudbench"] + args,
                                environment: env, deadline: 180)
        XCTAssertFalse(out.timedOut, "cloudbench \(args.joined(separator: " ")) outlived its deadline")
        return out
    }

    /// `cloudbench ARGS` started inside the namespace (the caller signals it and waits); output to files in the folder.
    func startCloudbench(_ args: [String], environment: [String: String]) throws -> (ChildProcess, String) {
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("AWS_") && !$0.key.hasPrefix("AZURE_") && $0.key != "DIGITALOCEAN_TOKEN" }
        env.merge(environment) { _, b in b }
        let errPath = "\(dir)/cloudbench.err"
        FileManager.default.createFile(atPath: errPath, contents: nil)
        let p = try ns.spawn(["sh", "-c", "cd \"$0\" && exec \"$@\"", Repo.root, "\(Self.binDir)/cloudbench"] + args,
                             stdout: FileHandle(forWritingAtPath: "/dev/null"), stderr: FileHandle(forWritingAtPath: errPath), environment: env)
        return (p, errPath)
    }

    func writeFleet(_ text: String) throws -> String {
        let path = "\(dir)/fleet.yaml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func provisionArgs(_ fleet: String, _ extra: [String] = []) -> [String] {
        ["provision", fleet, "--ssh-from", "198.51.100.7/32", "--runs-dir", "\(dir)/runs", "--inventories-dir", "\(dir)/inventories"] + extra
    }

    static func runID(_ out: String) -> String? {
        out.split(separator: "\n").first { $0.hasPrefix("run: ") }.map { String($0.dropFirst(5)) }
    }

    /// Every file under the test's folder whose text holds `secret` (the fake's own log excluded).
    func filesHolding(_ secret: String) -> [String] {
        var hits: [String] = []
        let e = FileManager.default.enumerator(atPath: dir)
        while let f = e?.nextObject() as? String {
            if f == "fake.log" || f == "fleet.yaml" { continue }
            if let d = FileManager.default.contents(atPath: "\(dir)/\(f)"), String(decoding: d, as: UTF8.self).contains(secret) { hits.append(f) }
        }
        return hits
    }
}
