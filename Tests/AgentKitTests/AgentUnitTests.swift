import Testing
@testable import AgentKit

@Suite("Agent values")
struct AgentUnitTests {
    @Test("percentiles are nearest-rank: every figure is a measured value", arguments: [
        (50.0, 50.0), (90.0, 90.0), (99.0, 99.0), (99.9, 100.0), (100.0, 100.0), (0.5, 1.0),
    ])
    func percentiles(p: Double, expected: Double) throws {
        let sample = (1...100).map(Double.init).shuffled()
        let pct = try #require(Percentiles(sample))
        #expect(pct.value(at: p) == expected)
        #expect(pct.min == 1 && pct.max == 100 && pct.mean == 50.5)
    }

    @Test("no sample, no percentiles")
    func emptyPercentiles() { #expect(Percentiles([]) == nil) }

    @Test("JSON escapes strings, keeps key order, writes missing numbers as null")
    func jsonWriter() {
        let j = JSON.object([("b", .string("a\"b\\c\nd\u{1}")), ("a", .double(.nan)), ("i", .int(3)),
                             ("d", .double(2.5)), ("w", .double(4)), ("l", .array([.bool(true), .null]))])
        #expect(j.serialized() == #"{"b":"a\"b\\c\nd\u0001","a":null,"i":3,"d":2.5,"w":4,"l":[true,null]}"#)
    }

    @Test("the contract's command line parses")
    func parsesContract() throws {
        let inv = try Invocation.parse(["run", "--server", "10.231.10.2:5201", "--token", "t", "--test", "tcp_bw",
                                        "--duration", "2.5", "--warmup", "0", "--streams", "4", "--message-size", "65536",
                                        "--reverse", "--interval", "0.5", "--json"], environment: nil)
        guard case .run(let o) = inv else { Issue.record("not a run"); return }
        #expect(o.server.description == "10.231.10.2:5201")
        #expect(o.request.duration == 2.5 && o.request.warmup == 0 && o.request.streams == 4)
        #expect(o.request.messageSize == 65536 && o.request.reverse && o.request.interval == 0.5 && o.json)
        guard case .serve(let s) = try Invocation.parse(["serve", "--listen", "[::1]:7000", "--deadline", "30"],
                                                        environment: "from-env") else { Issue.record("not serve"); return }
        #expect(s.token == "from-env" && s.deadline == 30 && s.listen.port == 7000)
    }

    @Test("bad command lines say what is wrong", arguments: [
        (["run", "--server", "10.0.0.1", "--token", "t", "--test", "tcp_bw"], "needs a port"),
        (["run", "--server", "10.0.0.1:1", "--test", "tcp_bw"], "missing --token"),
        (["run", "--server", "10.0.0.1:1", "--token", "t", "--test", "ping"], "unknown test 'ping'"),
        (["run", "--server", "host.example:1", "--token", "t", "--test", "tcp_bw"], "not a numeric"),
        (["run", "--server", "10.0.0.1:1", "--token", "t", "--test", "tcp_bw", "--streams", "0"], "--streams"),
        (["serve", "--listen", "10.0.0.1:1", "--token", "t"], "missing --deadline"),
        (["run", "--server", "10.0.0.1:1", "--token", "t", "--test", "tcp_lat", "--bidir"], "--bidir is for tcp_bw only"),
        (["serve", "--listen", "10.0.0.1:1", "--token", "t", "--deadline", "5", "--bogus"], "unknown option '--bogus'"),
    ])
    func badCommandLines(argv: [String], message: String) {
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

    @Test("a request survives the control line")
    func requestRoundTrip() throws {
        var r = TestRequest(test: .udpBandwidth)
        r.duration = 3; r.warmup = 0.5; r.rate = 12_345_678; r.messageSize = 1000; r.reverse = true
        let words = r.encodedFields().split(separator: " ")
        #expect(try TestRequest(fields: ControlLine.fields(words)) == r)
    }

    @Test("tokens match only when equal")
    func tokens() {
        #expect(Server.tokensMatch("abc", "abc"))
        #expect(!Server.tokensMatch("abd", "abc"))
        #expect(!Server.tokensMatch("ab", "abc"))
        #expect(!Server.tokensMatch("abcd", "abc"))
        #expect(!Server.tokensMatch("", "abc"))
    }

    @Test("the window puts each byte in the interval of its arrival")
    func window() {
        let w = Window(start: 100, warmup: 2, duration: 3, interval: 1)
        #expect(w.bucket(101.9) == nil)
        #expect(w.bucket(102) == 0)
        #expect(w.bucket(103.5) == 1)
        #expect(w.bucket(104.999) == 2)
        #expect(w.bucket(105) == nil)
    }
}
