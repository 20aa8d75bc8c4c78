/// The plan as `cloudbench plan` prints it: the matrix, the run order and the time it should take.
public enum PlanText {
    public static func render(plan: Plan, inventory: Inventory, parallel: Int, sustained: SustainedRuns? = nil) -> String {
        let estimate = TimeEstimate(plan: plan, run: inventory.run, parallel: parallel, sustained: sustained)
        var out = "Plan for \(inventory.name) (\(inventory.file))\n\n"
        let pairs = plan.cellsByPair.count
        out += "Matrix: \(pairs) pair\(pairs == 1 ? "" : "s") × paths × tests × repetitions = \(plan.cellCount) cells\n\n"
        var rows = [["pair", "instance", "paths", "tests", "reps", "cells", "time"]]
        for (pair, cells) in plan.cellsByPair {
            rows.append([
                pair.name,
                "\(pair.provider) \(pair.type)" + (pair.region.isEmpty ? "" : " \(pair.region)"),
                pair.paths.map(\.name).joined(separator: ", "),
                pair.tests.map(\.rawValue).joined(separator: ", "),
                "\(pair.repetitions)", "\(cells.count)",
                formatDuration(seconds: estimate.pairSeconds[pair.name] ?? 0),
            ])
        }
        out += TextTable.render(rows) + "\n"
        if !plan.cellsByGroup.isEmpty {
            var groupRows = [["group", "shape", "instance", "hosts", "steps", "reps", "cells", "time"]]
            for (group, cells) in plan.cellsByGroup {
                groupRows.append([
                    group.name, group.shape.rawValue,
                    "\(group.provider) \(group.type)" + (group.region.isEmpty ? "" : " \(group.region)"),
                    "\(group.hosts.count)",
                    group.steps.map { "\($0)" }.joined(separator: ", ") + (group.sweepOf == .spokes ? "" : " \(group.stepKey)")
                        + (group.shape == .through ? " + direct" : ""),
                    "\(group.repetitions)", "\(cells.count)", formatDuration(seconds: estimate.pairSeconds[group.name] ?? 0),
                ])
            }
            out += "Groups (tcp_bw, every flow of a step at once; after the pairs, one group at a time):\n"
            out += TextTable.render(groupRows) + "\n"
        }
        out += "Each cell: \(inventory.run.warmup) warm-up + \(inventory.run.duration) measured"
        out += inventory.run.streams == [1] ? "" : ", \(inventory.run.streams.map(String.init).joined(separator: "/")) TCP streams"
        if let sustained, sustained.enabled, !sustained.burstableTypes.isEmpty, inventory.run.duration < inventory.run.sustainedAfter {
            out += "; tcp_bw of burstable types (\(sustained.burstableTypes.sorted().joined(separator: ", "))) "
                + "\(inventory.run.sustainedAfter) measured (--sustained)"
        }
        out += ".\n\nOrder (each pair runs its cells in this order"
        out += plan.seed.map { "; rounds shuffled with seed \($0)" } ?? ""
        out += "):\n"
        for (pair, cells) in plan.cellsByPair {
            out += "  \(pair.name):\n"
            let rounds = Dictionary(grouping: cells, by: \.repetition)
            for rep in rounds.keys.sorted() {
                let list = rounds[rep]!.map { "\($0.path.name)/\($0.testKey)" }.joined(separator: ", ")
                out += "    round \(rep): \(list)\n"
            }
        }
        out += "\nPairs that share no host run side by side, up to \(parallel) at once.\n"
        out += "Estimated wall time: \(formatDuration(seconds: estimate.wallSeconds))"
        out += " (measuring \(formatDuration(seconds: estimate.measuringSeconds)) summed over cells;"
        out += " setup and per-cell overhead included).\n"
        let rootPaths = Set(inventory.pairs.flatMap(\.paths).filter(\.needsRoot).map(\.name)).sorted()
        let noSudo = inventory.hosts.filter { !$0.ssh.sudo && $0.ssh.user != "root" }
        if !rootPaths.isEmpty && !noSudo.isEmpty {
            out += "Note: paths \(rootPaths.joined(separator: ", ")) need root; they will be skipped on "
                + noSudo.map(\.address).joined(separator: ", ") + " (no sudo, not root).\n"
        }
        for warning in sustained?.warnings(inventory) ?? [] { out += "Warning: \(warning).\n" }
        return out
    }
}
