#if canImport(Glibc)
import Glibc
#endif

/// The one narrow door for system calls, after swift-nio's `NIOPosix/System.swift`: one typed
/// wrapper per call; `EINTR` retried; `errno` captured at once, before anything can clobber
/// it; `EAGAIN` (a timed or non-blocking socket with nothing to do) and `EINPROGRESS` (a
/// non-blocking connect under way) returned as values; every other failure thrown as a
/// `SystemError` that names the call.
///
/// Only loops that measure (tcp_bw's and tcp_lat's data paths) call recv/send directly: for
/// them the end of a connection is the end of the test, not an error, and they must cost
/// nothing beyond the syscall. Each says so where it does it.
public enum Posix {
    // MARK: the two shapes every wrapper has

    /// Calls `body` until it stops failing with `EINTR`; a negative result throws.
    @inline(__always)
    static func retrying<T: FixedWidthInteger>(_ name: @autoclosure () -> String,
                                               _ body: () -> T) throws(SystemError) -> T {
        while true {
            let result = body()
            if result >= 0 { return result }
            let err = errno
            if err == EINTR { continue }
            throw SystemError(call: name(), errno: err)
        }
    }

    /// Like `retrying`, with `EAGAIN`/`EWOULDBLOCK` as `.wouldBlock`.
    @inline(__always)
    static func retryingIO<T: FixedWidthInteger & Sendable>(_ name: @autoclosure () -> String,
                                                           _ body: () -> T) throws(SystemError) -> IOResult<T> {
        while true {
            let result = body()
            if result >= 0 { return .processed(result) }
            let err = errno
            if err == EINTR { continue }
            if err == EAGAIN || err == EWOULDBLOCK { return .wouldBlock }
            throw SystemError(call: name(), errno: err)
        }
    }

    // MARK: descriptors and files

    /// `open(2)`, close-on-exec.
    public static func open(_ path: String, _ flags: Int32, mode: mode_t = 0) throws(SystemError) -> Int32 {
        try retrying("open(\(path))") { Glibc.open(path, flags | O_CLOEXEC, mode) }
    }

    /// `close(2)`. Not retried on EINTR: on Linux the descriptor is gone either way.
    public static func close(_ fd: Int32) {
        _ = Glibc.close(fd)
    }

    @inline(__always)
    public static func read(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) throws(SystemError) -> IOResult<Int> {
        try retryingIO("read") { Glibc.read(fd, buffer, count) }
    }

    @inline(__always)
    public static func write(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) throws(SystemError) -> IOResult<Int> {
        try retryingIO("write") { Glibc.write(fd, buffer, count) }
    }

    /// The whole file at `path`, at most `limit` bytes (the rest is not read).
    public static func readFile(_ path: String, limit: Int = 1 << 30) throws(SystemError) -> [UInt8] {
        let fd = try open(path, O_RDONLY)
        defer { close(fd) }
        var data: [UInt8] = []
        let size = 65_536
        let chunk = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 16)
        defer { chunk.deallocate() }
        while data.count < limit {
            let n = try read(fd, chunk, min(size, limit - data.count)).value ?? 0
            if n <= 0 { break }
            data += UnsafeRawBufferPointer(start: chunk, count: n)
        }
        return data
    }

    /// Writes all of `bytes` to a file or pipe, or, with `socket`, with `send(MSG_NOSIGNAL)` so
    /// a peer that went away is an error rather than SIGPIPE. On a descriptor with a send
    /// timeout, a timeout that passes with bytes still unsent throws `EAGAIN`.
    public static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, socket: Bool = false) throws(SystemError) {
        guard let base = bytes.baseAddress else { return }
        var offset = 0
        while offset < bytes.count {
            let result = socket ? try send(fd, base + offset, bytes.count - offset)
                                : try write(fd, base + offset, bytes.count - offset)
            guard let n = result.value else { throw SystemError(call: socket ? "send" : "write", errno: EAGAIN) }
            offset += n
        }
    }

    /// `ioctl(2)` with a pointer argument.
    public static func ioctl(_ fd: Int32, _ request: UInt, _ argument: UnsafeMutableRawPointer,
                             _ name: @autoclosure () -> String) throws(SystemError) {
        _ = try retrying("ioctl(\(name()))") { Glibc.ioctl(fd, request, argument) }
    }

    /// Sets or clears `O_NONBLOCK`.
    public static func setNonBlocking(_ fd: Int32, _ on: Bool) throws(SystemError) {
        let flags = try retrying("fcntl(F_GETFL)") { fcntl(fd, F_GETFL) }
        _ = try retrying("fcntl(F_SETFL)") { fcntl(fd, F_SETFL, on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK) }
    }

    /// Sets `FD_CLOEXEC` (for descriptors from calls without a close-on-exec flag).
    public static func setCloseOnExec(_ fd: Int32) throws(SystemError) {
        _ = try retrying("fcntl(F_SETFD)") { fcntl(fd, F_SETFD, FD_CLOEXEC) }
    }

    // MARK: waiting

    /// `poll(2)` until `deadline`; the number of descriptors with events (0: the deadline
    /// passed). A signal does not cut the wait short.
    public static func poll(_ fds: inout [pollfd], until deadline: Deadline) throws(SystemError) -> Int {
        while true {
            let n = fds.withUnsafeMutableBufferPointer { Glibc.poll($0.baseAddress, nfds_t($0.count), deadline.remainingMilliseconds) }
            if n >= 0 {
                if n == 0 && !deadline.expired { continue }
                return Int(n)
            }
            let err = errno
            if err == EINTR { continue }
            throw SystemError(call: "poll", errno: err)
        }
    }

    /// Waits until `fd` has one of `events` (or has hung up); false when `deadline` passes first.
    public static func wait(_ fd: Int32, for events: Int16, until deadline: Deadline) throws(SystemError) -> Bool {
        var fds = [pollfd(fd: fd, events: events, revents: 0)]
        return try poll(&fds, until: deadline) > 0
    }

    /// `sigtimedwait(2)`: the first signal of `set` (blocked in every thread) to arrive before
    /// `deadline`, or nil when the deadline passes first.
    public static func waitForSignal(_ set: sigset_t, until deadline: Deadline) throws(SystemError) -> Int32? {
        var mask = set
        while !deadline.expired {
            let left = deadline.secondsRemaining
            var ts = timespec(tv_sec: Int(left), tv_nsec: Int((left - Double(Int(left))) * 1e9))
            let sig = sigtimedwait(&mask, nil, &ts)
            if sig > 0 { return sig }
            let err = errno
            if err == EAGAIN || err == EINTR { continue }
            throw SystemError(call: "sigtimedwait", errno: err)
        }
        return nil
    }

    // MARK: sockets

    /// `socket(2)`, close-on-exec.
    public static func socket(_ family: Int32, _ type: Int32, _ proto: Int32 = 0) throws(SystemError) -> Int32 {
        try retrying("socket") { Glibc.socket(family, type | Int32(SOCK_CLOEXEC.rawValue), proto) }
    }

    /// `connect(2)`: true when connected, false when a non-blocking connect is under way
    /// (`EINPROGRESS`; also after `EINTR`, when the kernel goes on connecting).
    public static func connect(_ fd: Int32, _ address: UnsafePointer<sockaddr>, _ length: socklen_t) throws(SystemError) -> Bool {
        if Glibc.connect(fd, address, length) == 0 { return true }
        let err = errno
        if err == EINPROGRESS || err == EINTR { return false }
        throw SystemError(call: "connect", errno: err)
    }

    /// A connection from `fd` to `address` within `deadline`: non-blocking connect, poll for
    /// writability, then `SO_ERROR`. Throws `connect` with `ETIMEDOUT` when the deadline
    /// passes, or with the connection's own errno (`ECONNREFUSED`, `EHOSTUNREACH`, …). The
    /// descriptor is left blocking, as it came.
    public static func connect(_ fd: Int32, _ address: UnsafePointer<sockaddr>, _ length: socklen_t,
                               until deadline: Deadline) throws(SystemError) {
        try setNonBlocking(fd, true)
        if try !connect(fd, address, length) {
            guard try wait(fd, for: Int16(POLLOUT), until: deadline) else {
                throw SystemError(call: "connect", errno: ETIMEDOUT)
            }
            let err: Int32 = try getOption(fd, SOL_SOCKET, SO_ERROR)
            if err != 0 { throw SystemError(call: "connect", errno: err) }
        }
        try setNonBlocking(fd, false)
    }

    public static func bind(_ fd: Int32, _ address: UnsafePointer<sockaddr>, _ length: socklen_t) throws(SystemError) {
        _ = try retrying("bind") { Glibc.bind(fd, address, length) }
    }

    public static func listen(_ fd: Int32, backlog: Int32) throws(SystemError) {
        _ = try retrying("listen") { Glibc.listen(fd, backlog) }
    }

    /// `accept(2)`, the new descriptor close-on-exec; `.wouldBlock` also when the client gave up
    /// before it was accepted (`ECONNABORTED`).
    public static func accept(_ fd: Int32, _ address: UnsafeMutablePointer<sockaddr>,
                              _ length: UnsafeMutablePointer<socklen_t>) throws(SystemError) -> IOResult<Int32> {
        let result: IOResult<Int32>
        do {
            result = try retryingIO("accept") { Glibc.accept(fd, address, length) }
        } catch where error.errno == ECONNABORTED {
            return .wouldBlock
        }
        // accept4 needs _GNU_SOURCE, which Swift's Glibc lacks.
        if case .processed(let new) = result { try setCloseOnExec(new) }
        return result
    }

    @inline(__always)
    public static func send(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int, flags: Int32 = 0) throws(SystemError) -> IOResult<Int> {
        try retryingIO("send") { Glibc.send(fd, buffer, count, flags | Int32(MSG_NOSIGNAL)) }
    }

    @inline(__always)
    public static func recv(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int, flags: Int32 = 0) throws(SystemError) -> IOResult<Int> {
        try retryingIO("recv") { Glibc.recv(fd, buffer, count, flags) }
    }

    @inline(__always)
    public static func sendto(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int, flags: Int32 = 0,
                              _ address: UnsafePointer<sockaddr>, _ length: socklen_t) throws(SystemError) -> IOResult<Int> {
        try retryingIO("sendto") { Glibc.sendto(fd, buffer, count, flags | Int32(MSG_NOSIGNAL), address, length) }
    }

    @inline(__always)
    public static func recvfrom(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int, flags: Int32 = 0,
                                _ address: UnsafeMutablePointer<sockaddr>, _ length: UnsafeMutablePointer<socklen_t>) throws(SystemError) -> IOResult<Int> {
        try retryingIO("recvfrom") { Glibc.recvfrom(fd, buffer, count, flags, address, length) }
    }

    /// `setsockopt(2)` with a value of any fixed layout (an Int32, a timeval, a linger).
    public static func setOption<T>(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: T,
                                    _ label: @autoclosure () -> String = "setsockopt") throws(SystemError) {
        _ = try retrying(label()) { withUnsafeBytes(of: value) { setsockopt(fd, level, name, $0.baseAddress, socklen_t($0.count)) } }
    }

    /// `getsockopt(2)` of an Int32 option.
    public static func getOption(_ fd: Int32, _ level: Int32, _ name: Int32) throws(SystemError) -> Int32 {
        var v: Int32 = 0
        var len = socklen_t(MemoryLayout<Int32>.size)
        _ = try retrying("getsockopt") { getsockopt(fd, level, name, &v, &len) }
        return v
    }

    /// `getsockopt(2)` into a byte buffer (for `TCP_INFO`, whose length depends on the kernel);
    /// the bytes the kernel filled.
    public static func getOption(_ fd: Int32, _ level: Int32, _ name: Int32, bytes capacity: Int) throws(SystemError) -> [UInt8] {
        var raw = [UInt8](repeating: 0, count: capacity)
        var len = socklen_t(capacity)
        _ = try retrying("getsockopt") { raw.withUnsafeMutableBytes { getsockopt(fd, level, name, $0.baseAddress, &len) } }
        return Array(raw[0..<min(capacity, Int(len))])
    }

    /// `getsockname(2)` into a `sockaddr_storage`.
    public static func localAddress(_ fd: Int32) throws(SystemError) -> (sockaddr_storage, socklen_t) {
        var storage = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = try retrying("getsockname") {
            withUnsafeMutablePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        }
        return (storage, len)
    }
}
