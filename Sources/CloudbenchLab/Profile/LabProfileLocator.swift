import Foundation

/// Finds a profile by name (`reference-2015`) or path (`./my.yaml`).
///
/// Names are looked up in `$CLOUDBENCH_LAB_PROFILES`, then `./lab/profiles`, then `lab/profiles`
/// in the folders above the running executable (so `.build/release/cloudbench` finds the repository's).
public enum LabProfileLocator {
    public static let defaultProfile = "reference-2015"

    public static func searchDirectories(executable: String = CommandLine.arguments.first ?? "") -> [String] {
        var dirs: [String] = []
        if let env = ProcessInfo.processInfo.environment["CLOUDBENCH_LAB_PROFILES"], !env.isEmpty { dirs.append(env) }
        dirs.append(FileManager.default.currentDirectoryPath + "/lab/profiles")
        var dir = URL(fileURLWithPath: executable).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<6 {
            dirs.append(dir.appendingPathComponent("lab/profiles").path)
            dir.deleteLastPathComponent()
        }
        return dirs
    }

    /// The path of profile `nameOrPath`, or a usage error naming where it looked and what exists.
    public static func locate(_ nameOrPath: String, in directories: [String] = searchDirectories()) throws -> String {
        let fm = FileManager.default
        if nameOrPath.contains("/") || nameOrPath.hasSuffix(".yaml") || nameOrPath.hasSuffix(".yml") {
            guard fm.fileExists(atPath: nameOrPath) else { throw LabError.usage("lab profile \(nameOrPath) does not exist") }
            return nameOrPath
        }
        for dir in directories where fm.fileExists(atPath: "\(dir)/\(nameOrPath).yaml") {
            return "\(dir)/\(nameOrPath).yaml"
        }
        let known = Set(directories.flatMap { (try? fm.contentsOfDirectory(atPath: $0)) ?? [] }
            .filter { $0.hasSuffix(".yaml") }.map { String($0.dropLast(5)) }).sorted()
        let hint = known.isEmpty
            ? "no profile folder found; pass a path, or set CLOUDBENCH_LAB_PROFILES to the repository's lab/profiles"
            : "known profiles: \(known.joined(separator: ", "))"
        throw LabError.usage("no lab profile named '\(nameOrPath)'; \(hint)")
    }
}
