import Testing
@testable import AgentKit

/// Numbers from the command line and from a peer's control lines: every one has a range, and a
/// value outside it is a usage error naming the flag, never a trap or a huge allocation.
@Suite("Agent limits")
struct AgentLimitTests {
    static let run = ["run", "--server", "10.0.0.1:5201", "--token", "t", "--test", "tcp_bw"]

    @Test("out-of-range numbers on the command line are usage errors naming the flag and its range", arguments: [
        (run + ["--interval", "1e-300"], "--interval"),
        (run + ["--interval", "1e-9"], "--interval"),
        (run + ["--duration", "3600", "--interval", "0.01"], "more than 10000 intervals"),
        (run + ["--duration", "1e300"], "--duration must be from 0.001 to 3600 seconds"),
        (run + ["--warmup", "-1"], "--warmup must be from 0 to 600 seconds"),
        (run + ["--connect-timeout", "1e300"], "--connect-timeout must be from 0.1 to 600 seconds"),
        (run + ["--connect-timeout", "0"], "--connect-timeout must be from 0.1 to 600 seconds"),
        (run + ["--rate", "1e400"], "--rate"),
        (run + ["--rate", "nan"], "--rate"),
        (run + ["--streams", "99999999999999999999"], "--streams"),
        (run + ["--size", "-5"], "--size must be from 0 to 1073741824 bytes"),
        (["serve", "--listen", "10.0.0.1:1", "--token", "t", "--deadline", "1e19"], "--deadline must be from 0.001 to 604800 seconds"),
        (["serve", "--listen", "10.0.0.1:1", "--token", "t", "--deadline", "inf"], "--deadline"),
        (["serve", "--listen", "10.0.0.1:1", "--token", "t", "--deadline", "0"], "--deadline must be from"),
    ])
    func commandLineRanges(argv: [String], message: String) {
        do {
            _ = try Invocation.parse(argv, environment: nil)
            Issue.record("accepted \(argv)")
        } catch let e as AgentError {
            #expect(e.description.contains(message), "\(e)")
            #expect(e.exitStatus == 2)
        } catch {
            Issue.record("\(error)")
        }
    }

    @Test("a request line with hostile numbers is refused with a reason", arguments: [
        "test=tcp_bw duration=10 interval=1e-300",
        "test=tcp_bw duration=3600 interval=1e-9",
        "test=tcp_bw duration=1e19",
        "test=udp_bw duration=1 rate=1e-300",
        "test=tcp_bw streams=-1",
        "test=tcp_bw message_size=9223372036854775807",
        "test=http size=99999999999",
        "test=tcp_lat count=-3",
        "test=tcp_bw duration=nan",
    ])
    func requestLineRanges(line: String) {
        #expect(throws: AgentError.self) {
            try TestRequest(fields: ControlLine.fields(line.split(separator: " ")))
        }
    }

    @Test("a peer's RESULT with counts that would overflow or are not numbers is refused", arguments: [
        "RESULT rbytes=1 rtotal=1 intervals=9223372036854775807,9223372036854775807 rcpu_user=0 rcpu_sys=0 relapsed=1",
        "RESULT rbytes=1 rtotal=-1 intervals=1 rcpu_user=0 rcpu_sys=0 relapsed=1",
        "RESULT rbytes=1 rtotal=1 intervals=1,x rcpu_user=0 rcpu_sys=0 relapsed=1",
        "RESULT rbytes=1 rtotal=1 intervals=1 rcpu_user=nan rcpu_sys=0 relapsed=1",
    ])
    func receiverResult(line: String) {
        #expect(ReceiverStats(fields: ControlLine.result(line) ?? [:]) == nil)
    }

    @Test("a well-formed RESULT still parses")
    func receiverResultOK() throws {
        let s = try #require(ReceiverStats(fields: ControlLine.result(
            "RESULT rbytes=30 rtotal=40 intervals=10,20 rcpu_user=0.5 rcpu_sys=0.25 relapsed=3") ?? [:]))
        #expect(s.intervals == [10, 20] && s.windowBytes == 30 && s.totalBytes == 40)
        let t = try #require(SenderStats(fields: ControlLine.result(
            "RESULT sbytes=1 stotal=2 retrans=0 rtt_us=12.5 mss=1448 pmtu=1500 scpu_user=0 scpu_sys=0 selapsed=1") ?? [:]))
        #expect(t.mss == 1448 && t.rttMicroseconds == 12.5)
        #expect(SenderStats(fields: ControlLine.result(
            "RESULT sbytes=1 stotal=2 retrans=0 rtt_us=inf mss=1448 pmtu=1500 scpu_user=0 scpu_sys=0 selapsed=1") ?? [:]) == nil)
    }

    @Test("the window of the longest allowed run has at most the allowed number of intervals")
    func windowBounded() throws {
        var r = TestRequest(test: .tcpBandwidth)
        r.duration = 3600
        r.interval = 0.36
        try r.validate()
        #expect(Window(start: 0, warmup: 0, duration: r.duration, interval: r.interval).intervalCount <= 10_000)
    }
}
