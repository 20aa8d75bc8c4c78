#if canImport(Glibc)
import Glibc
#endif
import Syscall

/// conf: facts about this host that explain its measurements.
public enum HostFacts {
    @_silgen_name("gnu_get_libc_version") private static func gnu_get_libc_version() -> UnsafePointer<CChar>

    public static func collect() -> JSON {
        var u = utsname()
        uname(&u)
        func field<T>(_ value: T) -> String {
            withUnsafeBytes(of: value) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
        }
        let cpuinfo = readFile("/proc/cpuinfo") ?? ""
        let model = cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") || $0.hasPrefix("Model") }
            .flatMap { $0.split(separator: ":", maxSplits: 1).last }
            .map { String($0.drop { $0 == " " || $0 == "\t" }) } ?? "unknown"
        let memKB = (readFile("/proc/meminfo") ?? "").split(separator: "\n").first { $0.hasPrefix("MemTotal:") }
            .flatMap { $0.split(separator: " ").dropFirst().first }.flatMap { Int($0) } ?? 0
        var interfaces: [JSON] = []
        if let dir = opendir("/sys/class/net") {
            var names: [String] = []
            while let entry = readdir(dir) {
                let name = field(entry.pointee.d_name)
                if !name.hasPrefix(".") { names.append(name) }
            }
            closedir(dir)
            for name in names.sorted() {
                let mtu = readFile("/sys/class/net/\(name)/mtu").flatMap { Int($0.filter { !$0.isWhitespace }) }
                interfaces.append(.object([("name", .string(name)), ("mtu", mtu.map { .int($0) } ?? .null)]))
            }
        }
        return .object([
            ("schema", .string(AgentJSON.schema)), ("test", .string("conf")),
            ("agent_version", .string(AgentVersion.version)), ("build_id", .string(AgentVersion.buildID())),
            ("hostname", .string(field(u.nodename))),
            ("kernel", .object([("name", .string(field(u.sysname))), ("release", .string(field(u.release))),
                                ("version", .string(field(u.version))), ("machine", .string(field(u.machine)))])),
            ("cpu", .object([("model", .string(model)), ("cores", .int(Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))))])),
            ("memory_bytes", .int(memKB * 1024)),
            ("glibc", .string(String(cString: gnu_get_libc_version()))),
            ("interfaces", .array(interfaces)),
        ])
    }

    /// A file of /proc or /sys as text; nil when it cannot be read.
    static func readFile(_ path: String) -> String? {
        (try? Posix.readFile(path, limit: 16 << 20)).map { String(decoding: $0, as: UTF8.self) }
    }
}
