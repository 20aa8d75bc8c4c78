import Foundation
import NetNS

/// A lab brought up through the built `cloudbench`, and `compare` run against it as a user runs
/// it: from the lab's controller namespace, which has no route anywhere but the lab.
struct LabRun {
    static let root: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    static var bin: String {
        if let b = ProcessInfo.processInfo.environment["CLOUDBENCH_BIN"], !b.isEmpty { return b }
        return "\(root)/.build/debug"
    }

    let name: String
    let work: String
    var inventory: String { "\(work)/inventory.yaml" }
    var results: String { "\(work)/results" }
    var report: String { "\(work)/report.md" }
    var state: String { "/run/cloudbench-lab/\(name)" }

    /// Brings up the test profile under a unique name on `10.231.<third>.0/24`.
    init(tag: String, third: Int, profile: String = "compare-lab", edit: (String) -> String = { $0 }) throws {
        name = "c\(getpid() % 10000)\(tag)"
        work = FileManager.default.temporaryDirectory.appendingPathComponent("cb-compare-\(name)").path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let profilePath = "\(Self.root)/Tests/CloudbenchOrchestratorTests/Fixtures/\(profile).yaml"
        do {
            try ProcessRunner.check(["\(Self.bin)/cloudbench", "lab", "up", "--name", name, "--profile", profilePath,
                             "--subnet", "10.231.\(third)", "--overlay-subnet", "10.231.\(third + 1)"])
            let generated = try String(contentsOfFile: "\(state)/inventory.yaml", encoding: .utf8)
            try edit(generated).write(toFile: inventory, atomically: true, encoding: .utf8)
        } catch {
            down()
            throw error
        }
    }

    /// Removes the lab and the test's files; safe to call twice.
    func down() {
        _ = try? ProcessRunner.check(["\(Self.bin)/cloudbench", "lab", "down", "--name", name])
        try? FileManager.default.removeItem(atPath: work)
    }

    /// `cloudbench lab exec -- cloudbench compare …` as a command line.
    func compareArguments(_ extra: [String]) -> [String] {
        ["\(Self.bin)/cloudbench", "lab", "exec", "--name", name, "--", "\(Self.bin)/cloudbench", "compare", inventory,
         "--providers", "\(Self.root)/providers", "--results-dir", results, "--report", report] + extra
    }

    /// Compare, started; the caller waits or interrupts.
    /// The pipes are kept open for the rest of the test process (`openPipes`): a caller that
    /// ignores one must not have compare killed by SIGPIPE when it next writes there.
    func startCompare(_ extra: [String] = []) throws -> (ChildProcess, Pipe, Pipe) {
        let out = Pipe(), err = Pipe()
        let p = try ProcessRunner.start(compareArguments(extra), stdout: out, stderr: err)
        Self.openPipes.withLock { $0 += [out, err] }
        return (p, out, err)
    }

    static let openPipes = Locked<[Pipe]>([])

    /// Runs compare to the end (ten minutes at most); returns its exit status and what it printed.
    func compare(_ extra: [String] = []) throws -> (status: Int32, stdout: String, stderr: String) {
        let r = try ProcessRunner.run(compareArguments(extra), deadline: 600)
        return (r.status, r.stdout, r.stderr)
    }

    /// Every record of every results file, as JSON objects.
    func records() throws -> [[String: Any]] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: results)) ?? []
        return try files.filter { $0.hasSuffix(".jsonl") }.sorted().flatMap { f in
            try String(contentsOfFile: "\(results)/\(f)", encoding: .utf8).split(separator: "\n").map {
                try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
            }
        }
    }

    /// The instance namespaces of this lab.
    var instances: [Namespace] {
        Namespace.existing(prefix: "cbl-\(name)-").filter { !$0.name.hasSuffix("-ctl") && !$0.name.hasSuffix("-fabric") }
    }

    /// cloudbench's processes and interfaces still on the lab's instances (empty when clean).
    func leftovers() -> [String] {
        var found: [String] = []
        for ns in instances {
            let pids = ((try? ProcessRunner.check(["ip", "netns", "pids", ns.name])) ?? "").split(separator: "\n")
            for pid in pids {
                let cmd = (try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? ""
                if cmd.contains("cloudbench-agent") { found.append("\(ns.name): agent process \(pid)") }
            }
            let links = (try? ns.run(["ip", "-o", "link", "show"])) ?? ""
            for dev in ["cbvx0", "cbtun0", "cbdock0", "cbdockv0"] where links.contains(" \(dev):") { found.append("\(ns.name): interface \(dev)") }
        }
        return found
    }

    /// The lab's pid file of an instance's sshd (e.g. `slow-server`).
    func sshdPid(_ instance: String) -> Int32? {
        (try? String(contentsOfFile: "\(state)/hosts/\(instance)/sshd.pid", encoding: .utf8))
            .flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }
}
