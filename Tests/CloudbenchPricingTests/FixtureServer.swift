import CloudbenchProcess
import Foundation

/// A python3 `http.server` on 127.0.0.1 (ephemeral port) that serves recorded-shape API responses by
/// scenario and logs every request; stopped by pid.
final class FixtureServer {
    struct Response: Encodable {
        var status = 200
        var headers: [String: String] = [:]
        var file: String?
        var body: String?
        var gzip = false
        var delay: Double?
        /// Send only this many body bytes, then close the connection.
        var cut_at: Int?
    }

    /// Checked by the server as AWS would (403 when wrong).
    struct SigV4: Encodable {
        var access_key: String
        var secret: String
        var region = "us-east-1"
        var service = "pricing"
    }

    struct Route: Encodable {
        var method = "GET"
        var path: String
        var query_contains: [String] = []
        var query_excludes: [String] = []
        var body_contains: [String] = []
        var body_excludes: [String] = []
        var verify_sigv4: SigV4?
        var responses: [Response]
    }

    /// One request as the server saw it.
    struct Logged: Decodable {
        var method: String
        /// The request target as sent: absolute (`http://host/path`) when the request came through a proxy.
        var target: String
        var path: String
        var query: String
        var headers: [String: String]
        var body: String
    }

    let process: ChildProcess
    let dir: String
    let port: Int
    var base: String { "http://127.0.0.1:\(port)" }

    init(_ routes: [Route]) throws {
        dir = NSTemporaryDirectory() + "cb-prices-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let scenario = try JSONEncoder().encode(["routes": routes])
        try scenario.write(to: URL(fileURLWithPath: "\(dir)/scenario.json"))
        _ = FileManager.default.createFile(atPath: "\(dir)/log.jsonl", contents: Data())
        process = try ProcessRunner.start(["python3", "\(TestPaths.fixtures)/fixture_server.py", "\(dir)/scenario.json",
                                           "\(dir)/log.jsonl", "\(dir)/port"], stderr: FileHandle.standardError)
        let deadline = Date().addingTimeInterval(15)
        var found: Int?
        while Date() < deadline, process.isRunning {
            if let text = try? String(contentsOfFile: "\(dir)/port", encoding: .utf8), let p = Int(text) { found = p; break }
            usleep(20_000)
        }
        guard let found else {
            process.stop(grace: 0)
            try? FileManager.default.removeItem(atPath: dir)
            throw TestFailure("the fixture server did not start within 15 s (is python3 installed?)")
        }
        port = found
    }

    /// Every request so far, in order.
    func requests() -> [Logged] {
        guard let text = try? String(contentsOfFile: "\(dir)/log.jsonl", encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { try? JSONDecoder().decode(Logged.self, from: Data($0.utf8)) }
    }

    func stop() {
        process.stop(grace: 3)
        try? FileManager.default.removeItem(atPath: dir)
    }

    deinit { stop() }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// Paths inside this repository, found from this source file.
enum TestPaths {
    static let root: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    static var providers: String { "\(root)/providers" }
    static var fixtures: String { "\(root)/Tests/CloudbenchPricingTests/Fixtures" }

    /// A temporary copy of the repository's hand-written catalogs (never the repository's own folder).
    static func catalogCopy() throws -> String {
        let dir = NSTemporaryDirectory() + "cb-catalog-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for name in try FileManager.default.contentsOfDirectory(atPath: providers) where name.hasSuffix(".yaml") {
            try FileManager.default.copyItem(atPath: "\(providers)/\(name)", toPath: "\(dir)/\(name)")
        }
        return dir
    }

    /// The built `cloudbench`: `$CLOUDBENCH_BIN/cloudbench`, else `.build/debug/cloudbench`.
    static var cloudbench: String {
        if let bin = ProcessInfo.processInfo.environment["CLOUDBENCH_BIN"], !bin.isEmpty { return "\(bin)/cloudbench" }
        return "\(root)/.build/debug/cloudbench"
    }
}
