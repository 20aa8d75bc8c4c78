import CloudbenchCore

/// The table `compare` ends with: per pair (and group), what was measured, what failed and why.
public enum CompareStatus {
    public static func render(_ s: CompareSummary, plan: Plan) -> String {
        var out = "\nrun \(s.runID): results in \(s.resultsPath)\n"
        let all = s.earlierRecords + s.records
        var rows = [["pair", "cells", "ok", "failed", "skipped", "first failure"]]
        // Pairs, then groups (which run after them), each by its name.
        let named = plan.cellsByPair.map { ($0.pair.name, $0.cells) } + plan.cellsByGroup.map { ($0.group.name, $0.cells) }
        for (name, cells) in named {
            let mine = all.filter { $0.pair == name }
            let okKeys = Set(mine.filter { $0.status == .ok }.map(ResumeState.key(of:)))
            let failedThisRun = s.records.filter { $0.pair == name && $0.status == .failed }
            let skipped = s.skipped.filter { $0.0.pair == name }
            let note: String
            if s.pairsNotRun.contains(name) {
                note = s.interrupted && mine.isEmpty ? "not run: interrupted before its first cell" : "not run: a host failed preflight or deploy"
            }
            else { note = failedThisRun.first.map { "\($0.path)/\($0.test): \($0.error ?? "")" } ?? skipped.first.map { $0.1 } ?? "" }
            rows.append([name, "\(cells.count)", "\(okKeys.count)", "\(failedThisRun.count)", "\(skipped.count)",
                         String(note.prefix(110))])
        }
        out += TextTable.render(rows)
        for (host, why) in s.hostProblems { out += "host \(host): \(why)\n" }
        for (host, items) in s.leftovers.sorted(by: { $0.key < $1.key }) {
            out += "host \(host) still has: \(items.joined(separator: ", "))\n"
        }
        let missing = plan.cellCount - Set(all.filter { $0.status == .ok }.map(ResumeState.key(of:))).count
        if s.interrupted { out += "interrupted: every finished result is kept.\n" }
        if missing > 0 && (s.interrupted || s.failedCount > 0) {
            out += "\(missing) cells have no result yet: cloudbench compare … --resume \(s.runID)\n"
        }
        return out
    }
}
