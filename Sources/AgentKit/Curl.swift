#if canImport(Glibc)
import Glibc
#endif

/// libcurl, loaded at run time with `dlopen("libcurl.so.4")` so that only the http test
/// needs it: the agent itself links nothing but glibc.
///
/// `curl_easy_setopt` and `curl_easy_getinfo` are variadic; they are called through
/// non-variadic function types with one integer or pointer argument, which the x86-64 and
/// AArch64 Linux calling conventions pass exactly as the variadic call would.
final class Curl: @unchecked Sendable {
    typealias InitFn = @convention(c) () -> OpaquePointer?
    typealias SetLongFn = @convention(c) (OpaquePointer?, Int32, Int) -> Int32
    typealias SetPtrFn = @convention(c) (OpaquePointer?, Int32, UnsafeRawPointer?) -> Int32
    typealias PerformFn = @convention(c) (OpaquePointer?) -> Int32
    typealias CleanupFn = @convention(c) (OpaquePointer?) -> Void
    typealias GetInfoFn = @convention(c) (OpaquePointer?, Int32, UnsafeMutableRawPointer?) -> Int32
    typealias StrErrorFn = @convention(c) (Int32) -> UnsafePointer<CChar>?
    typealias GlobalInitFn = @convention(c) (Int) -> Int32
    typealias VersionFn = @convention(c) () -> UnsafePointer<CChar>?

    let initHandle: InitFn, setLong: SetLongFn, setPtr: SetPtrFn, perform: PerformFn
    let cleanup: CleanupFn, getInfo: GetInfoFn, strError: StrErrorFn
    let version: String

    // Option and info numbers from curl.h (stable ABI).
    static let optURL: Int32 = 10002, optWriteFunction: Int32 = 20011, optFreshConnect: Int32 = 74
    static let optForbidReuse: Int32 = 75, optNoSignal: Int32 = 99, optTimeoutMS: Int32 = 155
    static let optConnectTimeoutMS: Int32 = 156
    static let infoResponseCode: Int32 = 0x200000 + 2, infoSizeDownload: Int32 = 0x600000 + 8
    static let infoTotalTime: Int32 = 0x600000 + 50, infoConnectTime: Int32 = 0x600000 + 52
    static let infoStartTransferTime: Int32 = 0x600000 + 54

    /// Loads libcurl, or says plainly that the host lacks it.
    init() throws {
        guard let lib = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL) else {
            throw AgentError.failed("the http test needs libcurl (libcurl.so.4), which this host does not have; install libcurl4 (Debian/Ubuntu) or libcurl (Amazon Linux); the other tests do not need it")
        }
        func sym<T>(_ name: String, _ type: T.Type) throws -> T {
            guard let p = dlsym(lib, name) else { throw AgentError.failed("libcurl.so.4 lacks \(name); it is too old for the http test") }
            return unsafeBitCast(p, to: type)
        }
        let globalInit = try sym("curl_global_init", GlobalInitFn.self)
        _ = globalInit(3)  // CURL_GLOBAL_ALL
        initHandle = try sym("curl_easy_init", InitFn.self)
        setLong = try sym("curl_easy_setopt", SetLongFn.self)
        setPtr = try sym("curl_easy_setopt", SetPtrFn.self)
        perform = try sym("curl_easy_perform", PerformFn.self)
        cleanup = try sym("curl_easy_cleanup", CleanupFn.self)
        getInfo = try sym("curl_easy_getinfo", GetInfoFn.self)
        strError = try sym("curl_easy_strerror", StrErrorFn.self)
        let v = try sym("curl_version", VersionFn.self)
        version = v().map { String(cString: $0) } ?? "libcurl"
    }

    /// libcurl's timers for one fetch, in microseconds from the start of the transfer.
    struct Timing: Sendable {
        var connect: Double
        var firstByte: Double
        var total: Double
        var bytes: Int
    }

    /// One reusable easy handle.
    final class Handle {
        let curl: Curl
        let handle: OpaquePointer

        init(_ curl: Curl, freshConnection: Bool, timeout: Double) throws {
            guard let h = curl.initHandle() else { throw AgentError.failed("curl_easy_init failed") }
            self.curl = curl
            handle = h
            let discard: @convention(c) (UnsafeMutableRawPointer?, Int, Int, UnsafeMutableRawPointer?) -> Int = { _, size, n, _ in size * n }
            _ = curl.setPtr(h, Curl.optWriteFunction, unsafeBitCast(discard, to: UnsafeRawPointer.self))
            _ = curl.setLong(h, Curl.optNoSignal, 1)
            _ = curl.setLong(h, Curl.optConnectTimeoutMS, 5000)
            _ = curl.setLong(h, Curl.optTimeoutMS, Int(timeout * 1000))
            if freshConnection {
                _ = curl.setLong(h, Curl.optFreshConnect, 1)
                _ = curl.setLong(h, Curl.optForbidReuse, 1)
            }
        }

        deinit { curl.cleanup(handle) }

        func fetch(_ url: String) throws -> Timing {
            let rc = url.withCString { curl.setPtr(handle, Curl.optURL, UnsafeRawPointer($0)) }
            guard rc == 0 else { throw AgentError.failed("libcurl refused the URL \(url)") }
            let result = curl.perform(handle)
            guard result == 0 else {
                let why = curl.strError(result).map { String(cString: $0) } ?? "error \(result)"
                throw AgentError.failed("fetching \(url) failed: \(why)")
            }
            var code = 0
            _ = curl.getInfo(handle, Curl.infoResponseCode, &code)
            guard code == 200 else { throw AgentError.failed("fetching \(url) returned HTTP \(code)") }
            func offT(_ info: Int32) -> Int64 {
                var v: Int64 = 0
                _ = curl.getInfo(handle, info, &v)
                return v
            }
            return Timing(connect: Double(offT(Curl.infoConnectTime)), firstByte: Double(offT(Curl.infoStartTransferTime)),
                          total: Double(offT(Curl.infoTotalTime)), bytes: Int(offT(Curl.infoSizeDownload)))
        }
    }
}
