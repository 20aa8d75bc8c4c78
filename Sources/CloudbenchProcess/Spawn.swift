import Foundation
import Syscall

/// posix_spawn with what every child of cloudbench gets: a process group of its own (so a
/// deadline can stop it and everything it started), default signal dispositions and an empty
/// signal mask (whatever cloudbench blocks or ignores), and no descriptor of ours beyond
/// the three it is handed (a pipe of another command must not be held open by this one).
enum Spawn {
    /// Where one of the child's standard descriptors comes from.
    enum Source {
        case null
        case descriptor(Int32)
    }

    /// Starts `path` with `argv` (argv[0] included); the pid. Throws `CommandError` (status
    /// 127) when the program cannot be started.
    static func start(path: String, argv: [String], stdin: Source, stdout: Source, stderr: Source,
                      environment: [String: String]?, directory: String?) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for (fd, source) in [(Int32(0), stdin), (1, stdout), (2, stderr)] {
            switch source {
            case .null: posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0)
            case .descriptor(let from): posix_spawn_file_actions_adddup2(&actions, from, fd)
            }
        }
        if let closeFrom = GlibcSpawnExtras.addCloseFrom { _ = closeFrom(&actions, 3) }
        if let directory {
            guard let chdir = GlibcSpawnExtras.addChdir else {
                throw CommandError(argv: argv, status: 127, stderr: "cannot run \(path) in \(directory): this glibc has no posix_spawn_file_actions_addchdir_np")
            }
            _ = chdir(&actions, directory)
        }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t(), all = sigset_t()
        sigemptyset(&none)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let cArgv: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        let cEnv: [UnsafeMutablePointer<CChar>?]? = environment.map { $0.map { strdup("\($0.key)=\($0.value)") } + [nil] }
        defer { for p in cArgv + (cEnv ?? []) { free(p) } }
        var pid: pid_t = 0
        let failed = cEnv.map { posix_spawn(&pid, path, &actions, &attributes, cArgv, $0) }
            ?? posix_spawn(&pid, path, &actions, &attributes, cArgv, environ)
        guard failed == 0 else {
            let why = directory.map { " (in \($0))" } ?? ""
            throw CommandError(argv: argv, status: 127, stderr: "cannot run \(path)\(why): \(String(cString: strerror(failed)))")
        }
        return pid
    }
}

/// The glibc posix_spawn extensions Swift's Glibc module does not declare (they need
/// `_GNU_SOURCE`/`__USE_MISC`), found at run time: `closefrom` (2.34) and `chdir` (2.29) in the child.
enum GlibcSpawnExtras {
    typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    typealias AddChdir = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32

    nonisolated(unsafe) static let addCloseFrom: AddCloseFrom? = symbol("posix_spawn_file_actions_addclosefrom_np")
    nonisolated(unsafe) static let addChdir: AddChdir? = symbol("posix_spawn_file_actions_addchdir_np")

    private static func symbol<F>(_ name: String) -> F? {
        guard let address = dlsym(UnsafeMutableRawPointer(bitPattern: 0), name) else { return nil }
        return unsafeBitCast(address, to: F.self)
    }
}
