import Foundation
import NetNS
import XCTest

/// provision → compare → destroy end to end on a lab (`--lab NAME`), no cloud: the lab's pairs are
/// leased, the run's key is added to and removed from the lab, and a signal mid-compare still
/// releases everything. Everything runs in the lab's controller, which reaches nothing but the lab.
final class LabProvisionTests: XCTestCase {
    var lab = ""
    var dir = ""
    var bin: String { MotoProvisionTests.binDir }
    var state: String { "/run/cloudbench-lab/\(lab)" }

    override func setUpWithError() throws {
        guard getuid() == 0 else { throw XCTSkip("the lab needs root") }
        lab = "cbprov\(getpid() % 100_000)"
        dir = NSTemporaryDirectory() + "cb-labprov-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try ProcessRunner.check(["\(bin)/cloudbench", "lab", "up", "--name", lab, "--profile", "\(Repo.root)/lab/profiles/small.yaml",
                         "--subnet", "10.219.7", "--overlay-subnet", "10.219.8"])
    }

    override func tearDown() {
        if !lab.isEmpty { _ = try? ProcessRunner.check(["\(bin)/cloudbench", "lab", "down", "--name", lab]) }
        if !dir.isEmpty { try? FileManager.default.removeItem(atPath: dir) }
        super.tearDown()
    }

    func fleet(duration: String, repetitions: Int) throws -> String {
        let path = "\(dir)/lab-fleet.yaml"
        try """
        version: 1
        name: labfleet
        run: { tests: [tcp_bw, tcp_lat], duration: \(duration), warmup: 0s, repetitions: \(repetitions) }
        pairs:
          - { name: a1, provider: azure, type: A1, region: eastus, count: 1 }
        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func start(_ fleet: String) throws -> (Process, String) {
        let errPath = "\(dir)/stderr-\(UUID().uuidString)"
        FileManager.default.createFile(atPath: errPath, contents: nil)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "\(bin)/cloudbench")
        p.arguments = ["lab", "exec", "--name", lab, "--", "\(bin)/cloudbench", "compare", "--fleet", fleet, "--lab", lab,
                       "--providers", "\(Repo.root)/providers", "--runs-dir", "\(dir)/runs", "--inventories-dir", "\(dir)/inventories",
                       "--results-dir", "\(dir)/results", "--report", "\(dir)/report.md"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle(forWritingAtPath: errPath)
        p.standardInput = FileHandle.nullDevice
        try p.run()
        return (p, errPath)
    }

    func leases() -> [String] { (try? FileManager.default.contentsOfDirectory(atPath: "\(state)/leases")) ?? [] }
    func authorizedKeys() -> [String] {
        ((try? String(contentsOfFile: "\(state)/authorized_keys", encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    func okRecords() -> Int {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: "\(dir)/results")) ?? []
        return files.filter { $0.hasSuffix(".jsonl") }.reduce(0) { n, f in
            n + ((try? String(contentsOfFile: "\(dir)/results/\(f)", encoding: .utf8)) ?? "").split(separator: "\n")
                .filter { $0.contains("\"status\":\"ok\"") }.count
        }
    }

    func testCompareFleetOnTheLabMeasuresAndReleasesEverything() throws {
        let keysBefore = authorizedKeys()
        let (p, errPath) = try start(try fleet(duration: "1s", repetitions: 1))
        p.waitUntilExit()
        let err = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        XCTAssertEqual(p.terminationStatus, 0, err)
        XCTAssertEqual(okRecords(), 2, err)
        XCTAssertTrue(err.contains(": 2 resources removed"), err)
        XCTAssertEqual(leases(), [])
        XCTAssertEqual(authorizedKeys(), keysBefore, "the run's key is gone from the lab")
        let run = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: "\(dir)/runs").first)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(dir)/runs/\(run)/id_ed25519"))
        let record = try String(contentsOfFile: "\(dir)/runs/\(run)/provision.json", encoding: .utf8)
        XCTAssertTrue(record.contains("\"destroyed_at\""), record)
        let report = try String(contentsOfFile: "\(dir)/report.md", encoding: .utf8)
        XCTAssertTrue(report.contains("## Provisioning"), report)
        XCTAssertTrue(report.contains("| estimated before creating |"), report)
        XCTAssertTrue(report.contains("| used (launch to termination) |"), report)
        // The written inventory verified host keys from the lab: nothing trusted on first use.
        XCTAssertFalse(err.contains("trusted on first use"), err)
    }

    /// SIGINT, SIGTERM and SIGHUP while compare runs: compare stops, and the fleet is destroyed all the same.
    func testSignalsMidCompareStillDestroy() throws {
        for sig in [SIGINT, SIGTERM, SIGHUP] {
            let (p, errPath) = try start(try fleet(duration: "2s", repetitions: 10))
            defer { if p.isRunning { kill(p.processIdentifier, SIGTERM); p.waitUntilExit() } }
            let deadline = Date().addingTimeInterval(60)
            var err = ""
            while Date() < deadline {
                err = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
                if err.contains("tcp_bw #1:") { break }
                Thread.sleep(forTimeInterval: 0.2)
            }
            XCTAssertTrue(err.contains("tcp_bw #1:"), "compare started measuring: \(err)")
            XCTAssertEqual(leases().count, 1)
            // The `compare --fleet` process: `lab exec` itself or one of its descendants, whose arguments hold --fleet.
            let target = try XCTUnwrap(([p.processIdentifier] + Self.descendants(of: p.processIdentifier))
                .first { Self.arguments(of: $0).contains("--fleet") }, "\(Self.descendants(of: p.processIdentifier).map(Self.arguments))")
            kill(target, sig)
            p.waitUntilExit()
            err = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
            XCTAssertEqual(p.terminationStatus, 130, "signal \(sig): \(err)")
            XCTAssertTrue(err.contains(": 2 resources removed"), err)
            XCTAssertEqual(leases(), [], "signal \(sig)")
            XCTAssertLessThan(okRecords(), 40, "stopped before the end")
        }
    }

    static func children(of pid: pid_t) -> [pid_t] {
        let text = (try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8)) ?? ""
        return text.split(separator: " ").compactMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    static func descendants(of pid: pid_t) -> [pid_t] {
        var out: [pid_t] = []
        var queue = children(of: pid)
        while let next = queue.first, out.count < 100 {
            queue.removeFirst()
            out.append(next)
            queue += children(of: next)
        }
        return out
    }

    static func arguments(of pid: pid_t) -> [String] {
        let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") ?? Data()
        return data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
    }
}
