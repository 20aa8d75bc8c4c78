import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Finding and ending processes by pid, never by name.
enum ProcessTable {
    /// The command line of `pid` with its NUL separators as spaces, or nil if it is gone.
    static func commandLine(_ pid: Int32) -> String? {
        guard pid > 0, let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"), !data.isEmpty else {
            return nil
        }
        return String(decoding: data.map { $0 == 0 ? UInt8(ascii: " ") : $0 }, as: UTF8.self)
    }

    /// Alive and not a zombie waiting for its parent.
    static func isAlive(_ pid: Int32) -> Bool {
        guard pid > 0, kill(pid, 0) == 0 || errno == EPERM else { return false }
        guard let stat = FileManager.default.contents(atPath: "/proc/\(pid)/stat") else { return false }
        let text = String(decoding: stat, as: UTF8.self)
        // The state letter follows the parenthesised command name, which may itself hold spaces.
        guard let close = text.lastIndex(of: ")") else { return true }
        let rest = text[text.index(after: close)...].trimmingCharacters(in: .whitespaces)
        return !rest.hasPrefix("Z") && !rest.hasPrefix("X")
    }

    static func parent(of pid: Int32) -> Int32? {
        guard let stat = FileManager.default.contents(atPath: "/proc/\(pid)/stat") else { return nil }
        let text = String(decoding: stat, as: UTF8.self)
        guard let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        return fields.count > 1 ? Int32(fields[1]) : nil
    }

    /// This process and its ancestors: `lab down` run through `lab exec` must not end itself.
    static func selfAndAncestors() -> Set<Int32> {
        var result: Set<Int32> = []
        var pid: Int32? = getpid()
        while let p = pid, p > 1, result.insert(p).inserted { pid = parent(of: p) }
        return result
    }

    /// The pid recorded in `path`, if the file holds one.
    static func pid(inFile path: String) -> Int32? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return Int32(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Sends SIGTERM, waits up to `grace` seconds, then SIGKILLs what is left. Returns the pids that were alive.
    @discardableResult
    static func end(_ pids: [Int32], grace: Double = 2) -> [Int32] {
        let targets = pids.filter { $0 > 1 && isAlive($0) }
        for pid in targets { kill(pid, SIGTERM) }
        let deadline = Date().addingTimeInterval(grace)
        while Date() < deadline, targets.contains(where: isAlive) { usleep(20_000) }
        for pid in targets where isAlive(pid) { kill(pid, SIGKILL) }
        let hard = Date().addingTimeInterval(2)
        while Date() < hard, targets.contains(where: isAlive) { usleep(20_000) }
        return targets
    }
}
