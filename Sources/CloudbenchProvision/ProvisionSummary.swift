import CloudbenchCore
import Foundation

/// The section `compare --fleet` adds to its report: what the run was estimated to cost before
/// anything was created, and the instance time it actually used (from the run's record).
public enum ProvisionSummary {
    public static func markdown(_ r: ProvisionJournal.Record) -> String {
        let instances = r.pairs.count * 2
        var out = "\n## Provisioning\n\n"
        out += "Run `\(r.run_id)` on \(r.provider), fleet `\(r.fleet)`, \(r.pairs.count) pairs (\(instances) instances); record `runs/\(r.run_id)/provision.json`.\n\n"
        out += "| | instance-seconds | cost |\n|---|---:|---:|\n"
        out += "| estimated before creating | \(instances * r.estimate_billed_seconds_each) | \(r.estimate_total) \(r.estimate_currency) |\n"
        if let used = r.instance_seconds {
            out += "| used (launch to termination) | \(Int(used.rounded(.up))) | |\n"
        } else {
            out += "| used | not known: the run was not destroyed through cloudbench | |\n"
        }
        return out
    }
}
