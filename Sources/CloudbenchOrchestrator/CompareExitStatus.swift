/// The exit status of `compare` (docs/exit-codes.md): 130 interrupted; 1 a cell failed or a host
/// failed preflight or deploy; 3 requested cells were skipped (a path needing root on a host
/// without sudo) unless skipping is allowed; else 0.
extension CompareSummary {
    public func exitStatus(allowSkipped: Bool) -> Int32 {
        if interrupted { return 130 }
        if failedCount > 0 || !hostProblems.isEmpty { return 1 }
        if !skipped.isEmpty && !allowSkipped { return 3 }
        return 0
    }
}
