import CloudbenchCore

/// The exit status of `compare` (docs/exit-codes.md): 130 interrupted; 1 a cell failed or a host
/// failed preflight or deploy; 3 requested cells were skipped (a path needing root on a host
/// without sudo) unless skipping is allowed; else 0.
extension CompareSummary {
    public func exitStatus(allowSkipped: Bool) -> ExitStatus {
        if interrupted { return .interrupted }
        if failedCount > 0 || !hostProblems.isEmpty { return .failures }
        if !skipped.isEmpty && !allowSkipped { return .skipped }
        return .ok
    }
}
