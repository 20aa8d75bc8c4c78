import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Keeps two `lab up` / `lab down` of the same lab from interleaving.
///
/// An exclusive `flock` on `.<name>.lock` beside the state directory. The kernel drops it when
/// its holder dies, so a killed `lab up` never leaves the lab locked.
final class LabLock {
    private let fd: Int32
    let path: String

    /// Takes the lock at once or throws, naming what holds it.
    init(files: LabFiles, name: String) throws {
        let url = URL(fileURLWithPath: files.directory)
        let parent = url.deletingLastPathComponent().path
        path = "\(parent)/.\(url.lastPathComponent).lock"
        try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        while true {
            let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
            guard fd >= 0 else {
                throw LabError("cannot open the lab lock \(path): \(String(cString: strerror(errno)))")
            }
            guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
                close(fd)
                throw LabError("another `cloudbench lab` command is bringing lab '\(name)' up or down (it holds \(path)); wait for it")
            }
            // A holder that was removing the lock file may have unlinked it while we waited:
            // a lock on an unlinked file excludes no one, so take the new file instead.
            var held = stat(), current = stat()
            if fstat(fd, &held) == 0, stat(path, &current) == 0, held.st_ino == current.st_ino, held.st_dev == current.st_dev {
                self.fd = fd
                return
            }
            close(fd)
        }
    }

    /// Releases the lock; `removeFile` once the lab is gone, so nothing of it stays on disk.
    func release(removeFile: Bool) {
        if removeFile { unlink(path) }
        flock(fd, LOCK_UN)
        close(fd)
    }
}
