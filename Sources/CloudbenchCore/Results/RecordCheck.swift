import Foundation

/// What a record from outside (a results file, an import) must satisfy before any figure of it
/// is used: a finite, non-negative value; a time from 2000 on and at most a day ahead of this
/// machine's clock; a unit cloudbench knows for the test. Loading skips a record that fails
/// (`FILE:LINE: reason`) and renders the rest; importing refuses it.
public enum RecordCheck {
    /// Records before this are not measurements of clouds cloudbench can price.
    public static let earliest = "2000-01-01T00:00:00Z"

    /// The latest time a record may carry: a day after `now` (clocks drift; a year ahead is a typo).
    public static func latest(now: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: now.addingTimeInterval(86_400))
    }

    /// Why `r` cannot be used, or nil when it can. `latest` comes from `latest(now:)`.
    public static func problem(_ r: ResultRecord, latest: String) -> String? {
        if let v = r.value {
            if !v.isFinite { return "value is not a finite number" }
            if v < 0 { return "value \(v) is negative; a throughput or a time cannot be" }
        }
        guard isISOTime(r.time) else { return "time '\(r.time)' is not an ISO 8601 UTC time such as 2026-11-27T13:40:00Z" }
        if r.time < earliest { return "time \(r.time) is before 2000" }
        if r.time > latest { return "time \(r.time) is more than a day ahead of this machine's clock" }
        if let u = r.unit, !MeasurementUnit.isKnown(u, test: r.test) {
            return "unknown unit '\(u)' for \(r.test)" + Suggestion.hint(for: u, in: MeasurementUnit.known(for: r.test),
                                                                       otherwise: "use one of \(MeasurementUnit.known(for: r.test).joined(separator: ", "))")
        }
        return nil
    }

    /// `YYYY-MM-DDTHH:MM` at least, so that comparing the text compares the times.
    static func isISOTime(_ s: String) -> Bool {
        let b = Array(s.utf8.prefix(16))
        guard b.count == 16 else { return false }
        for (i, c) in b.enumerated() {
            switch i {
            case 4, 7: if c != UInt8(ascii: "-") { return false }
            case 10: if c != UInt8(ascii: "T") { return false }
            case 13: if c != UInt8(ascii: ":") { return false }
            default: if c < 0x30 || c > 0x39 { return false }
            }
        }
        return true
    }
}
