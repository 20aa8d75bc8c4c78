#if canImport(Glibc)
import Glibc
#endif
import Syscall

/// printf-style formatting through `vsnprintf`, since the agent has no Foundation.
public func format(_ pattern: String, _ args: CVarArg...) -> String {
    withVaList(args) { va in
        var buffer = [CChar](repeating: 0, count: 256)
        let n = vsnprintf(&buffer, buffer.count, pattern, va)
        if n >= buffer.count {
            buffer = [CChar](repeating: 0, count: Int(n) + 1)
            return withVaList(args) { va2 in
                _ = vsnprintf(&buffer, buffer.count, pattern, va2)
                return cString(buffer)
            }
        }
        return cString(buffer)
    }
}

/// The text of a NUL-terminated buffer.
func cString(_ buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// Writes a line to stderr at once (unbuffered), for logs and errors.
public func printError(_ line: String) {
    var text = line + "\n"
    // Nothing to do if stderr is gone: there is nowhere left to say so.
    text.withUTF8 { try? Posix.writeAll(2, UnsafeRawBufferPointer($0)) }
}
