import Foundation
import Testing
import AgentContract
@testable import CloudbenchCore

@Suite("Plan")
struct PlanTests {
    let inventory = try! InventoryLoader(catalog: try! Catalog.load(directory: RepoPaths.providers))
        .load(path: "\(RepoPaths.fixtures)/inventories/good.yaml")

    @Test("pairs × paths × tests × repetitions cells, rounds interleaving the paths")
    func order() {
        let plan = Plan(inventory: inventory)
        #expect(plan.cellCount == 3 * 3 * 2 + 2 * 2 * 3)
        let a2 = plan.cellsByPair[0].cells.prefix(7).map { "\($0.path.name)/\($0.test.rawValue)/\($0.repetition)" }
        #expect(a2 == ["host/tcp_bw/1", "host/tcp_lat/1", "vxlan/tcp_bw/1", "vxlan/tcp_lat/1",
                       "udp/tcp_bw/1", "udp/tcp_lat/1", "host/tcp_bw/2"])
    }

    @Test("a seed shuffles within rounds only, the same way every time")
    func seeded() {
        let a = Plan(inventory: inventory, seed: 7), b = Plan(inventory: inventory, seed: 7), c = Plan(inventory: inventory, seed: 8)
        let cells = { (p: Plan) in p.cellsByPair.flatMap(\.cells) }
        #expect(cells(a) == cells(b))
        #expect(cells(a) != cells(c))
        #expect(Set(cells(a)) == Set(cells(Plan(inventory: inventory))))
        for (_, list) in a.cellsByPair {
            #expect(list.map(\.repetition) == list.map(\.repetition).sorted())
        }
    }

    @Test("pairs that share a host never overlap in the estimate")
    func scheduling() {
        var inv = inventory
        let plan1 = Plan(inventory: inv)
        let separate = TimeEstimate(plan: plan1, run: inv.run, parallel: 4)
        let a2 = separate.pairSeconds["azure-a2"]!, do5 = separate.pairSeconds["do-5"]!
        #expect(abs(separate.wallSeconds - (TimeEstimate.runSetup + max(a2, do5))) < 0.001)
        // Make do-5's server the same machine as azure-a2's client: now they run one after the other.
        inv.pairs[1].server = inv.pairs[0].client
        let shared = TimeEstimate(plan: Plan(inventory: inv), run: inv.run, parallel: 4)
        #expect(abs(shared.wallSeconds - (TimeEstimate.runSetup + a2 + do5)) < 0.001)
        let serial = TimeEstimate(plan: plan1, run: inv.run, parallel: 1)
        #expect(abs(serial.wallSeconds - (TimeEstimate.runSetup + a2 + do5)) < 0.001)
        // 18 cells of 12 s measuring, 1.5 s overhead, 12 of them on built-in overlays (+1 s).
        #expect(abs(a2 - (18 * 13.5 + 12)) < 0.001)
    }

    @Test("a udp_rate search cell is estimated as its probes run: longer than its budget when the cell is short")
    func rateSearchEstimate() {
        var run = inventory.run
        let plain = Cell(pair: "p", path: .host, test: .udpBandwidth, repetition: 1)
        let search = Cell(pair: "p", path: .host, test: .udpBandwidth, repetition: 1, variant: CellVariant(udpRateSearch: true))
        // 1 s cells (the demo's): each of 7 probes measures its 0.2 s floor after a 1/7 × 0.15 s
        // warm-up and costs 0.7 s more; 6.45 s in all against the 1 s a fixed-rate cell takes.
        run.warmup = DurationValue(milliseconds: 0)
        run.duration = DurationValue(milliseconds: 1_000)
        let probe = 1.0 / 7 * 0.15 + 0.2
        let short = TimeEstimate.cellSeconds(search, run: run)
        #expect(abs(short.measuring - 7 * probe) < 1e-9)
        #expect(abs(short.total - (7 * (probe + 0.7) + TimeEstimate.cellOverhead)) < 1e-9)
        #expect(abs(TimeEstimate.cellSeconds(plain, run: run).total - (1 + TimeEstimate.cellOverhead)) < 1e-9)
        // On the udp path the overlay's set-up adds as for any cell.
        var onOverlay = search
        onOverlay.path = .udp
        #expect(abs(TimeEstimate.cellSeconds(onOverlay, run: run).total - short.total - TimeEstimate.overlaySetup) < 1e-9)
        // 2 + 10 s cells: the probes fit the budget (12 s), as a fixed-rate cell's.
        run.warmup = DurationValue(milliseconds: 2_000)
        run.duration = DurationValue(milliseconds: 10_000)
        #expect(abs(TimeEstimate.cellSeconds(search, run: run).total - (12 + TimeEstimate.cellOverhead)) < 1e-9)
        #expect(TimeEstimate.cellSeconds(search, run: run).measuring < 12)
        // The agent runs exactly this schedule.
        let schedule = RateSearchSchedule(warmup: 2, duration: 10)
        #expect(abs(schedule.warmup - 12.0 / 7 * 0.15) < 1e-9 && abs(schedule.duration - (12.0 / 7 * 0.85 - 0.7)) < 1e-9)
    }
}
