import Foundation
import Testing
@testable import CloudbenchCore

/// Burstable types in the catalogs, `run.sustained_after`, and what `--sustained` changes.
@Suite("Sustained runs of burstable types")
struct SustainedRunsTests {
    let catalog = try! Catalog.load(directory: RepoPaths.providers)
    var loader: InventoryLoader {
        var l = InventoryLoader(catalog: catalog)
        l.checkFiles = false
        return l
    }

    func inventory(run: String) throws -> Inventory {
        try loader.parse(try YAMLDocument(file: "s.yaml", text: """
            version: 1
            name: s
            run: \(run)
            pairs:
              - { name: t3, provider: aws, type: t3.micro, server: { address: 10.0.0.1 }, client: { address: 10.0.0.2 } }
              - { name: m5, provider: aws, type: m5.large, server: { address: 10.0.0.3 }, client: { address: 10.0.0.4 } }
              - { name: lat, provider: azure, type: B1s, tests: [tcp_lat], server: { address: 10.0.0.5 }, client: { address: 10.0.0.6 } }
            """))
    }

    @Test("the catalogs mark AWS t2/t3, Azure B-series and DigitalOcean shared-CPU droplets burstable, and nothing else")
    func catalogFlags() {
        let burstable = catalog.types.values.flatMap(\.values).filter(\.burstable).map { "\($0.provider)/\($0.name)" }.sorted()
        #expect(burstable == ["aws/t2.medium", "aws/t2.micro", "aws/t2.small", "aws/t3.medium", "aws/t3.micro", "aws/t3.small",
                              "azure/B1s", "azure/B2s", "azure/B2ts_v2",
                              "digitalocean/512mb", "digitalocean/s-1vcpu-1gb", "digitalocean/s-1vcpu-2gb",
                              "digitalocean/s-1vcpu-512mb-10gb", "digitalocean/s-2vcpu-2gb", "digitalocean/s-2vcpu-4gb",
                              "digitalocean/s-4vcpu-8gb"])
    }

    @Test("sustained_after defaults to 5 min; --sustained lengthens only burstable types' tcp_bw")
    func settings() throws {
        let inv = try inventory(run: "{ duration: 10s }")
        #expect(inv.run.sustainedAfter == DurationValue(milliseconds: 300_000))
        let on = SustainedRuns(inventory: inv, catalog: catalog, enabled: true)
        #expect(on.burstableTypes == ["aws/t3.micro", "azure/B1s"])
        #expect(on.settings(inv.run, pair: inv.pairs[0], test: .tcpBandwidth).duration.seconds == 300)
        #expect(on.settings(inv.run, pair: inv.pairs[0], test: .tcpLatency).duration.seconds == 10)
        #expect(on.settings(inv.run, pair: inv.pairs[1], test: .tcpBandwidth).duration.seconds == 10)
        let off = SustainedRuns(inventory: inv, catalog: catalog, enabled: false)
        #expect(off.settings(inv.run, pair: inv.pairs[0], test: .tcpBandwidth).duration.seconds == 10)
        // The plan's estimate follows: one tcp_bw cell of t3 runs 300 s + 2 s warm-up instead of 12 s, ×3 repetitions.
        let plan = Plan(inventory: inv)
        let longer = TimeEstimate(plan: plan, run: inv.run, parallel: 1, sustained: on).measuringSeconds
        #expect(longer - TimeEstimate(plan: plan, run: inv.run, parallel: 1).measuringSeconds == 3 * 290)
    }

    @Test("a warning for each burstable pair whose tcp_bw runs shorter; none with --sustained or a long enough run")
    func warnings() throws {
        let inv = try inventory(run: "{ duration: 10s }")
        #expect(SustainedRuns(inventory: inv, catalog: catalog, enabled: false).warnings(inv) == [
            "pair 't3' (aws t3.micro) is a burstable type and its tcp_bw runs 10s, less than run.sustained_after (5m): it may "
                + "measure burst credit, not the rate the instance holds; run compare with --sustained",
        ])
        #expect(SustainedRuns(inventory: inv, catalog: catalog, enabled: true).warnings(inv).isEmpty)
        let long = try inventory(run: "{ duration: 2m, sustained_after: 2m }")
        #expect(SustainedRuns(inventory: long, catalog: catalog, enabled: false).warnings(long).isEmpty)
        let text = PlanText.render(plan: Plan(inventory: inv), inventory: inv, parallel: 1,
                                   sustained: SustainedRuns(inventory: inv, catalog: catalog, enabled: false))
        #expect(text.contains("Warning: pair 't3' (aws t3.micro) is a burstable type"))
    }

    @Test("sustained_after is a duration from 10 s to 1 h, checked with its place", arguments: [
        ("{ sustained_after: 5 }", "s.yaml:3:25: 'sustained_after' must be a duration from 5s to 1h, like 5m, not '5'"),
        ("{ sustained_after: 2s }", "s.yaml:3:25: 'sustained_after' must be a duration from 5s to 1h, like 5m, not '2s'"),
        ("{ sustained_after: 2h }", "s.yaml:3:25: 'sustained_after' must be a duration from 5s to 1h, like 5m, not '2h'"),
    ])
    func badSustainedAfter(run: String, message: String) {
        do {
            _ = try inventory(run: run)
            Issue.record("accepted \(run)")
        } catch let e as InputErrors {
            #expect(e.diagnostics.map(\.description) == [message])
        } catch {
            Issue.record("\(error)")
        }
    }
}
