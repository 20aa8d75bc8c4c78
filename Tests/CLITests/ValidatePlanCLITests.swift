import Foundation
import Testing

@Suite("cloudbench validate and plan, as a user runs them")
struct ValidatePlanCLITests {
    let fixtures = "Tests/CloudbenchCoreTests/Fixtures/inventories"
    /// good.yaml measures a DigitalOcean 512mb (a shared-CPU droplet, burstable) for 10 s.
    var burstWarning: String {
        "\(fixtures)/good.yaml: warning: pair 'do-5' (digitalocean 512mb) is a burstable type and its tcp_bw runs 10s, "
            + "less than run.sustained_after (5m): it may measure burst credit, not the rate the instance holds; run compare with --sustained\n"
    }

    @Test("a good inventory: exit 0, a one-line summary, and a warning for a burstable type tested briefly")
    func good() throws {
        let r = try CLI.run(["validate", "\(fixtures)/good.yaml"])
        #expect(r.status == 0)
        #expect(r.stdout == "\(fixtures)/good.yaml: ok (2 pairs, 4 hosts)\n")
        #expect(r.stderr == burstWarning)
    }

    @Test("bad inventories: every problem of every file as file:line:col, exit 2, no backtrace")
    func bad() throws {
        let r = try CLI.run(["validate", "\(fixtures)/bad/05-unknown-type.yaml", "\(fixtures)/bad/12-bad-duration.yaml", "\(fixtures)/good.yaml"])
        #expect(r.status == 2)
        #expect(r.stderr == burstWarning + """
            \(fixtures)/bad/05-unknown-type.yaml:19:11: unknown instance type 'A22' for azure; did you mean 'A2'?
            \(fixtures)/bad/12-bad-duration.yaml:12:13: bad duration '10' for 'duration'; write it like 500ms, 10s or 2m

            """)
        #expect(r.stdout == "\(fixtures)/good.yaml: ok (2 pairs, 4 hosts)\n")
    }

    @Test("an old placement name: accepted, exit 0, a warning naming the new word at its position")
    func oldPlacement() throws {
        let r = try CLI.run(["validate", "\(fixtures)/old-placement.yaml"])
        #expect(r.status == 0)
        #expect(r.stdout == "\(fixtures)/old-placement.yaml: ok (2 pairs, 4 hosts)\n")
        #expect(r.stderr == "\(fixtures)/old-placement.yaml:21:16: warning: placement 'same-az' is an old name; write 'same-zone'\n"
                + "\(fixtures)/old-placement.yaml: warning: pair 'do-5' (digitalocean 512mb) is a burstable type and its tcp_bw runs 10s, "
                + "less than run.sustained_after (5m): it may measure burst credit, not the rate the instance holds; run compare with --sustained\n")
    }

    @Test("a missing file: one line, exit 2")
    func missing() throws {
        let r = try CLI.run(["validate", "nope.yaml"])
        #expect(r.status == 2)
        #expect(r.stderr == "error: nope.yaml: no such file\n")
    }

    @Test("plan prints the matrix, the order and the estimate")
    func plan() throws {
        let r = try CLI.run(["plan", "\(fixtures)/good.yaml", "--parallel", "1"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("Matrix: 2 pairs × paths × tests × repetitions = 30 cells"))
        #expect(r.stdout.contains("    round 1: host/tcp_bw, host/tcp_lat, vxlan/tcp_bw, vxlan/tcp_lat, udp/tcp_bw, udp/tcp_lat\n"))
        // 18 × 13.5 s + 12 s (azure-a2) + 12 × 13.5 s (do-5) + 8 s setup, one pair at a time = 7m 05s.
        #expect(r.stdout.contains("Estimated wall time: 7m 05s"))
        #expect(r.stdout.contains("Warning: pair 'do-5' (digitalocean 512mb) is a burstable type"))
    }

    @Test("plan --sustained: burstable types' tcp_bw for run.sustained_after in the estimate, no warning")
    func planSustained() throws {
        let r = try CLI.run(["plan", "\(fixtures)/good.yaml", "--parallel", "1", "--sustained"])
        #expect(r.status == 0)
        // do-5 has 6 tcp_bw cells (host, weave × 3): each runs 5 min instead of 10 s, 6 × 290 s more than 7m 05s = 36m 05s.
        #expect(r.stdout.contains("Estimated wall time: 36m 05s"))
        #expect(r.stdout.contains("tcp_bw of burstable types (digitalocean/512mb) 5m measured (--sustained)"))
        #expect(!r.stdout.contains("Warning:"))
    }

    @Test("plan on a bad inventory fails like validate")
    func planBad() throws {
        let r = try CLI.run(["plan", "\(fixtures)/bad/04-unknown-provider.yaml"])
        #expect(r.status == 2)
        #expect(r.stderr.hasSuffix("04-unknown-provider.yaml:26:15: unknown provider 'digitalocaen'; did you mean 'digitalocean'?\n"))
    }
}
